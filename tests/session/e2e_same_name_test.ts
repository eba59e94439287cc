/**
 * A session belongs to its repo: repos whose folders share a name
 * (`…/a/repo`, `…/b/repo`, `…/c/repo`), started one after another or at
 * once, get distinct readable session names and distinct ports, and every
 * agent's `GIT_PAW_BROKER_URL` answers `/status` with its own repo. A
 * restart keeps a repo's name; a broker of another repo whose session has
 * the same name (another data dir, another tmux server) is never taken.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  freePort,
  initRepo,
  makeWorld,
  type Out,
  type World,
} from "./e2e_helpers.ts";

type BrokerStatus = { git_paw: boolean; session: string; repo?: string };

/** `git paw status --json` of the repo at `cwd`. */
async function statusOf(
  w: World,
  cwd: string,
): Promise<{ session: string; broker_url: string }> {
  const r = await w.paw(["status", "--json"], cwd);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The environment of a process (Linux `/proc`). */
async function environOf(pid: number): Promise<Map<string, string>> {
  const raw = await Deno.readTextFile(`/proc/${pid}/environ`);
  const out = new Map<string, string>();
  for (const kv of raw.split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) out.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return out;
}

/**
 * The broker URL each agent pane of `session` was started with, asked of
 * the pane's process itself.
 */
async function agentUrls(w: World, session: string): Promise<string[]> {
  const r = await w.tmux([
    "list-panes",
    "-s",
    "-t",
    `=${session}`,
    "-F",
    "#{@paw_role}\x1f#{pane_pid}",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const urls: string[] = [];
  for (const line of r.stdout.split("\n").filter((l) => l)) {
    const [role, pid] = line.split("\x1f");
    if (role === "dashboard") continue;
    const url = (await environOf(Number(pid))).get("GIT_PAW_BROKER_URL");
    assert.ok(url, `agent pane ${pid} of ${session} has a broker URL`);
    urls.push(url);
  }
  assert.ok(urls.length > 0, `${session} has agent panes`);
  return urls;
}

/** Every agent of the repo at `repo` talks to a broker of that very repo. */
async function assertOwnBroker(
  w: World,
  repo: string,
): Promise<{ session: string; port: string }> {
  const st = await statusOf(w, repo);
  for (const url of await agentUrls(w, st.session)) {
    assert.equal(url, st.broker_url, `${repo}: agents got the receipt's URL`);
    const doc = await (await fetch(`${url}/status`)).json() as BrokerStatus;
    assert.equal(doc.git_paw, true);
    assert.equal(doc.repo, repo, `${url} serves ${repo}`);
    assert.equal(doc.session, st.session);
  }
  return { session: st.session, port: new URL(st.broker_url).port };
}

function startIn(w: World, repo: string): Promise<Out> {
  return w.paw(["start", "--cli", "demo", "--branches", "feat/x"], repo);
}

Deno.test("git paw start gives repos named alike distinct sessions and brokers, one after another, and a restart keeps the name", async () => {
  await using w = await makeWorld({ project: "a/repo" });
  const a = w.repo;
  const b = join(w.root, "b", "repo");
  await initRepo(b, w.env);
  for (const repo of [a, b]) {
    const r = await startIn(w, repo);
    assert.equal(r.code, 0, r.stderr);
  }
  const sa = await assertOwnBroker(w, a);
  const sb = await assertOwnBroker(w, b);
  assert.equal(sa.session, "paw-repo");
  assert.equal(sb.session, "paw-repo-2");
  assert.notEqual(sa.port, sb.port);
  // Both stopped; b comes back first, while `paw-repo` is free: it keeps
  // its own name (and a keeps its).
  for (const repo of [a, b]) {
    assert.equal((await w.paw(["stop"], repo)).code, 0);
  }
  for (const repo of [b, a]) {
    const r = await w.paw(["start", "--no-attach"], repo);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await assertOwnBroker(w, b)).session, "paw-repo-2");
  assert.equal((await assertOwnBroker(w, a)).session, "paw-repo");
});

Deno.test("git paw start of three repos named alike at once gives each its own session and broker", async () => {
  await using w = await makeWorld({ project: "a/repo" });
  const repos = [w.repo, join(w.root, "b", "repo"), join(w.root, "c", "repo")];
  for (const r of repos.slice(1)) await initRepo(r, w.env);
  const outs = await Promise.all(repos.map((r) => startIn(w, r)));
  outs.forEach((o, i) => assert.equal(o.code, 0, `${repos[i]}: ${o.stderr}`));
  const got = [];
  for (const r of repos) got.push(await assertOwnBroker(w, r));
  assert.deepEqual(
    got.map((g) => g.session).sort(),
    ["paw-repo", "paw-repo-2", "paw-repo-3"],
  );
  assert.equal(new Set(got.map((g) => g.port)).size, 3, "distinct ports");
});

Deno.test("git paw start never takes the broker of another repo whose session has the same name", async () => {
  // Two users' worth of state (own data dirs, own tmux servers) on one
  // machine, both configured for the same broker port: both sessions are
  // `paw-repo`.
  const port = freePort();
  await using one = await makeWorld({ project: "repo" });
  await using two = await makeWorld({ project: "repo" });
  await one.writeConfig(`[broker]\nport = ${port}\n`);
  await two.writeConfig(`[broker]\nport = ${port}\n`);
  const r1 = await startIn(one, one.repo);
  assert.equal(r1.code, 0, r1.stderr);
  const first = await assertOwnBroker(one, one.repo);
  assert.equal(first.port, String(port));
  const t0 = Date.now();
  const r2 = await startIn(two, two.repo);
  assert.equal(r2.code, 0, r2.stderr);
  const second = await assertOwnBroker(two, two.repo);
  assert.equal(second.session, "paw-repo");
  assert.notEqual(second.port, String(port), "moved off the other's port");
  assert.doesNotMatch(r2.stderr, /still shutting down|did not start/);
  assert.ok(Date.now() - t0 < 20_000, "no wait on the other repo's broker");
});

/** Pane ids and their process ids of `session`. */
async function panePids(w: World, session: string): Promise<string[]> {
  const r = await w.tmux([
    "list-panes",
    "-s",
    "-t",
    `=${session}`,
    "-F",
    "#{pane_id}:#{pane_pid}:#{pane_dead}",
  ]);
  return r.code === 0 ? r.stdout.split("\n").filter((l) => l) : [];
}

Deno.test("git paw remove and stop end nothing of another repo's session of the same name", async () => {
  // Two tmux servers, both running `paw-repo` with an agent `feat-x`.
  await using one = await makeWorld({ project: "repo" });
  await using two = await makeWorld({ project: "repo" });
  for (const w of [one, two]) {
    const r = await w.paw([
      "start",
      "--cli",
      "demo",
      "--branches",
      "feat/x,feat/y",
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const before = await panePids(two, "paw-repo");
  assert.equal(before.length, 3, before.join(" "));
  const rm = await one.paw(["remove", "feat/x", "--force"]);
  assert.equal(rm.code, 0, rm.stderr);
  const stop = await one.paw(["stop"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(await panePids(two, "paw-repo"), before);
  await assertOwnBroker(two, two.repo);
});
