/** Session commands without a session, and the refusals of add/remove. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  capture,
  exists,
  makeWorld,
  openGuardShell,
  panes,
  startDemoNoBroker,
  statusJson,
  waitFor,
} from "./e2e_helpers.ts";

Deno.test("session commands say plainly when this repo has no session", async () => {
  await using w = await makeWorld({ project: "proj" });
  const cases: Array<[string[], number, RegExp]> = [
    [["status"], 0, /^No session for this repo\.$/m],
    [["stop"], 0, /^No session for this repo\.$/m],
    [["pause"], 0, /^No active session for this repo\.$/m],
    [["purge", "--force"], 0, /^No session to purge for this repo\.$/m],
  ];
  for (const [args, code, re] of cases) {
    const r = await w.paw(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, re);
  }
  const j = await w.paw(["status", "--json"]);
  assert.deepEqual(JSON.parse(j.stdout), { session: null });
  const a = await w.paw(["add", "feat/x"]);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /no active session.*git paw start/);
  const rm = await w.paw(["remove", "feat/x"]);
  assert.equal(rm.code, 1);
  assert.match(rm.stderr, /git paw start/);
});

Deno.test("git paw add and remove refuse duplicates, unknown agents and the last agent", async () => {
  await using w = await makeWorld({ project: "proj" });
  await startDemoNoBroker(w, "feat/a");
  // --no-broker: no dashboard pane, the agent is pane 0.
  assert.deepEqual((await panes(w, "paw-proj")).map((p) => p.title), [
    "feat/a",
  ]);
  const dup = await w.paw(["add", "feat/a"]);
  assert.equal(dup.code, 2);
  assert.match(dup.stderr, /already in session/);
  const same = await w.paw(["add", "feat-a"]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /share the agent id 'feat-a'/);
  const badCli = await w.paw(["add", "feat/b", "--cli", "nope"]);
  assert.equal(badCli.code, 1);
  assert.match(badCli.stderr, /unknown CLI 'nope'/);
  assert.ok(!exists(join(w.root, "proj-feat-b")));
  const unknown = await w.paw(["remove", "feat/zzz"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /not in session 'paw-proj'\. Agents: feat\/a\./);
  const last = await w.paw(["remove", "feat/a"]);
  assert.equal(last.code, 2);
  assert.match(last.stderr, /last agent.*git paw stop.*git paw purge/);
  const both = await w.paw(["remove", "feat/a", "--force", "--keep-worktree"]);
  assert.equal(both.code, 2);
  const add = await w.paw(["add", "feat/b"]);
  assert.equal(add.code, 0, add.stderr);
  const keep = await w.paw(["remove", "feat/b", "--keep-worktree"]);
  assert.equal(keep.code, 0, keep.stderr);
  assert.match(keep.stdout, /Keeping worktree on disk: .*proj-feat-b/);
  assert.ok(exists(join(w.root, "proj-feat-b")));
  assert.deepEqual((await panes(w, "paw-proj")).map((p) => p.title), [
    "feat/a",
  ]);
});

Deno.test("a failed git paw start leaves nothing behind", async () => {
  await using w = await makeWorld({ project: "proj" });
  // The second agent's worktree path is taken by unrelated files.
  const blocker = join(w.root, "proj-feat-b");
  await Deno.mkdir(blocker);
  await Deno.writeTextFile(join(blocker, "keep.txt"), "mine\n");
  const r = await w.paw([
    "start",
    "--cli",
    "demo",
    "--branches",
    "feat/a,feat/b",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /proj-feat-b already exists/);
  assert.ok(!exists(join(w.root, "proj-feat-a")));
  assert.equal(await Deno.readTextFile(join(blocker, "keep.txt")), "mine\n");
  const branches = await w.git(["branch", "--format=%(refname:short)"]);
  assert.deepEqual(branches.stdout.trim().split("\n"), ["main"]);
  assert.equal((await w.tmux(["has-session", "-t", "=paw-proj"])).code, 1);
  const st = await w.paw(["status", "--json"]);
  assert.deepEqual(JSON.parse(st.stdout), { session: null });
  assert.ok(!exists(join(w.repo, ".git-paw", "session.lock")));
});

Deno.test("git paw purge --stale purges sessions whose tmux is gone", async () => {
  await using w = await makeWorld({ project: "proj" });
  await startDemoNoBroker(w, "feat/a");
  const none = await w.paw(["purge", "--stale", "--force"]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /No stale sessions to purge\./);
  await w.tmux(["kill-server"]);
  const ask = await w.paw(["purge", "--stale"]);
  assert.equal(ask.code, 2);
  assert.match(ask.stderr, /--force/);
  const p = await w.paw(["purge", "--stale", "--force"], w.root);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /Purged stale session 'paw-proj'\./);
  assert.ok(!exists(join(w.root, "proj-feat-a")));
  const st = await w.paw(["status", "--json"]);
  assert.deepEqual(JSON.parse(st.stdout), { session: null });
});

Deno.test("git paw stop run from a shell inside the session still finishes", async () => {
  await using w = await makeWorld({ project: "proj" });
  const early = new URL("../../fixtures/early_exit_agent.sh", import.meta.url)
    .pathname;
  await w.writeConfig(`[clis.early]\ncommand = "${early}"\n`);
  const s = await w.paw([
    "start",
    "--no-broker",
    "--cli",
    "early",
    "--branches",
    "feat/a,feat/b",
  ]);
  assert.equal(s.code, 0, s.stderr);
  const wt = join(w.root, "proj-feat-a");
  const pane = (await panes(w, "paw-proj")).find((p) => p.agent === "feat-a")!
    .id;
  await Deno.writeTextFile(join(wt, ".go"), "");
  await waitFor(
    "guard prompt",
    async () => (await capture(w, pane)).includes("exited (code 3)"),
  );
  await openGuardShell(w, pane);
  const ready = join(wt, "ready");
  await waitFor("shell in the worktree", async () => {
    await w.tmux(["send-keys", "-l", "-t", pane, `touch ${ready}\n`]);
    return exists(ready);
  });
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  await w.tmux([
    "send-keys",
    "-l",
    "-t",
    pane,
    `'${Deno.execPath()}' run -A --quiet --config '${config}' '${main}' stop\n`,
  ]);
  await waitFor(
    "session stopped",
    async () =>
      (await w.tmux(["has-session", "-t", "=paw-proj"])).code === 1 &&
      (await statusJson(w)).status === "stopped",
    60_000,
  );
  assert.ok(!exists(join(w.repo, ".git-paw", "session.lock")));
});
