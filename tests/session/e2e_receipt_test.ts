/**
 * Receipts, the lock and broker ports, end to end: a corrupt receipt is a
 * clear error that `purge` clears; a lock left by a dead process is taken
 * over; two sessions of two repos (same project name) get two session names
 * and two broker ports, each broker naming its own session.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  exists,
  makeWorld,
  startDemoNoBroker,
  statusJson,
  waitFor,
} from "./e2e_helpers.ts";
import { pawArgv } from "../_helpers/paw_command.ts";

async function brokerSession(url: string): Promise<string | null> {
  try {
    const r = await fetch(`${url}/status`, {
      signal: AbortSignal.timeout(2000),
    });
    const j = await r.json();
    return typeof j.session === "string" ? j.session : null;
  } catch {
    return null;
  }
}

Deno.test("git paw status reports a corrupt receipt by file name and purge --force clears it", async () => {
  await using w = await makeWorld({ project: "proj" });
  await startDemoNoBroker(w, "feat/a");
  const file = join(w.root, "data", "git-paw", "sessions", "paw-proj.json");
  await Deno.writeTextFile(file, "{ not json");
  const s = await w.paw(["status"]);
  assert.equal(s.code, 1);
  assert.ok(s.stderr.includes(file), s.stderr);
  assert.match(s.stderr, /corrupt/);
  assert.match(s.stderr, /git paw purge/);
  const st = await w.paw(["start"]);
  assert.equal(st.code, 1);
  assert.ok(st.stderr.includes(file));
  const p = await w.paw(["purge", "--force"]);
  assert.equal(p.code, 0, p.stderr);
  assert.ok(!exists(file));
  assert.equal((await statusJson(w)).session, null);
  assert.equal((await w.tmux(["has-session", "-t", "=paw-proj"])).code, 1);
});

Deno.test("git paw start takes over a session lock left by a dead process", async () => {
  await using w = await makeWorld({ project: "proj" });
  const child = new Deno.Command("true").spawn();
  await child.status;
  await Deno.mkdir(join(w.repo, ".git-paw"), { recursive: true });
  await Deno.writeTextFile(
    join(w.repo, ".git-paw", "session.lock"),
    JSON.stringify({
      pid: child.pid,
      hostname: Deno.hostname(),
      started_at: "2026-01-01T00:00:00.000Z",
      command: "start",
    }),
  );
  await startDemoNoBroker(w, "feat/a");
  assert.equal((await statusJson(w)).status, "active");
  assert.ok(!exists(join(w.repo, ".git-paw", "session.lock")));
});

Deno.test("two sessions of two repos get two session names and two broker ports", async () => {
  await using a = await makeWorld({ project: "proj" });
  // Second repo with the same project name, sharing tmux server and data dir.
  const rootB = join(a.root, "other");
  await using b = await makeWorld({ project: "proj", root: rootB });
  b.env.TMUX_TMPDIR = a.env.TMUX_TMPDIR!;
  b.env.XDG_DATA_HOME = a.env.XDG_DATA_HOME!;
  b.env.XDG_CONFIG_HOME = a.env.XDG_CONFIG_HOME!;
  // Both would like the same port.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await a.writeConfig(`[broker]\nport = ${port}\n`);
  const ra = await a.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(ra.code, 0, ra.stderr);
  const sa = await statusJson(a) as { session: string; broker_url: string };
  assert.equal(sa.session, "paw-proj");
  assert.equal(sa.broker_url, `http://127.0.0.1:${port}`);
  assert.equal(
    await waitFor("broker A", () => brokerSession(sa.broker_url)),
    "paw-proj",
  );
  const rb = await b.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stderr, /another git-paw session/);
  const sb = await statusJson(b) as { session: string; broker_url: string };
  assert.equal(sb.session, "paw-proj-2");
  assert.notEqual(sb.broker_url, sa.broker_url);
  assert.equal(
    await waitFor("broker B", () => brokerSession(sb.broker_url)),
    "paw-proj-2",
  );
  // A's session is untouched.
  assert.equal(await brokerSession(sa.broker_url), "paw-proj");
  assert.equal((await statusJson(a)).session, "paw-proj");
});

Deno.test("the dashboard pane shows a clear error and stays open when another program holds the broker port", async () => {
  await using w = await makeWorld({ project: "proj" });
  const r = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(r.code, 0, r.stderr);
  const url = (await statusJson(w)).broker_url!;
  const port = Number(new URL(url).port);
  assert.equal((await w.paw(["stop"])).code, 0);
  await waitFor(
    "old broker gone",
    async () => (await brokerSession(url)) === null,
  );
  // A foreign program takes the port (accepts, never answers HTTP).
  const foreign = await waitFor("port free to take", () => {
    try {
      return Deno.listen({ hostname: "127.0.0.1", port });
    } catch {
      return null;
    }
  });
  try {
    // `stop` ended the world's tmux server; a new-session that reaches it
    // while it is still going away is told so: ask again.
    const t = await waitFor("a new tmux server", async () => {
      const r = await w.tmux([
        "new-session",
        "-d",
        "-s",
        "dash",
        "-x",
        "200",
        "-y",
        "50",
        "--",
        ...pawArgv(["__dashboard", "--session", "paw-proj", "--repo", w.repo]),
      ]);
      return /server exited unexpectedly/.test(r.stderr) ? null : r;
    });
    assert.equal(t.code, 0, t.stderr);
    const text = await waitFor("broker error in the pane", async () => {
      const c = await w.tmux(["capture-pane", "-p", "-J", "-t", "=dash:"]);
      return c.stdout.includes("Broker error") ? c.stdout : "";
    }, 30_000);
    assert.ok(text.includes(`cannot listen on ${url}`), text);
    assert.match(text, /another program|does not answer/);
    assert.match(text, /Press q to close this pane/);
    assert.equal((await w.tmux(["has-session", "-t", "=dash"])).code, 0);
    await w.tmux(["kill-session", "-t", "=dash"]);
    // Recovery moves the session's broker to a free port and says so.
    const rec = await w.paw(["start"]);
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stderr, new RegExp(`port ${port} is in use by`));
    const moved = (await statusJson(w)).broker_url!;
    assert.notEqual(moved, url);
    assert.equal(
      await waitFor("broker on the new port", () => brokerSession(moved)),
      "paw-proj",
    );
  } finally {
    foreign.close();
  }
});

Deno.test("git paw start replaces the name reservation of a start that died early", async () => {
  await using w = await makeWorld({ project: "proj" });
  const dir = join(w.root, "data", "git-paw", "sessions");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "paw-proj.json"),
    JSON.stringify({
      session_name: "paw-proj",
      repo_path: w.repo,
      project_name: "proj",
      created_at: "2026-01-01T00:00:00Z",
      status: "active",
      worktrees: [],
      mode: "bare",
    }),
  );
  await startDemoNoBroker(w, "feat/a");
  const s = await statusJson(w);
  assert.equal(s.session, "paw-proj");
  assert.deepEqual(s.worktrees!.map((x) => x.branch), ["feat/a"]);
});
