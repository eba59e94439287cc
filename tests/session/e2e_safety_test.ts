/**
 * Bad input and pane safety, end to end: hostile branch names are shown
 * verbatim and run nothing; names git refuses change nothing; text left in
 * an agent pane by a CLI that exits early never reaches a shell.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  capture,
  exists,
  makeWorld,
  openGuardShell,
  panes,
  statusJson,
  waitFor,
} from "./e2e_helpers.ts";

const EARLY = fileURLToPath(
  new URL("../../fixtures/early_exit_agent.sh", import.meta.url),
);

Deno.test("git paw start shows hostile branch names verbatim and runs nothing from them", async () => {
  await using w = await makeWorld({ project: "proj" });
  const canary = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "pawcanary" }),
  );
  try {
    const c = (n: string) => `touch\${IFS}${canary}/${n}`;
    const branches = [
      `feat/#(${c("c1")})`,
      `x/$(${c("c2")})`,
      `y/\`${c("c3")}\``,
      `z;${c("c4")};`,
    ];
    const r = await w.paw([
      "start",
      "--cli",
      "demo",
      "--branches",
      branches.join(","),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ps = await panes(w, "paw-proj");
    assert.deepEqual(ps.map((p) => p.title), ["dashboard", ...branches]);
    const s = await statusJson(w) as unknown as {
      worktrees: Array<{ branch: string }>;
    };
    assert.deepEqual(s.worktrees.map((x) => x.branch), branches);
    // Every agent got as far as committing in its worktree.
    for (const p of ps.slice(1)) {
      await waitFor(
        `demo agent idle in ${p.title}`,
        async () => (await capture(w, p.id)).includes("idle"),
        60_000,
      );
    }
    const border = await w.tmux([
      "display-message",
      "-p",
      "-t",
      ps[1]!.id,
      "#{pane_title}|#{@paw_role}",
    ]);
    assert.equal(border.stdout.trim(), `${branches[0]}|${branches[0]}`);
    assert.deepEqual([...Deno.readDirSync(canary)], []);
  } finally {
    await Deno.remove(canary, { recursive: true });
  }
});

Deno.test("git paw start refuses branch names git refuses and changes nothing", async () => {
  await using w = await makeWorld({ project: "proj" });
  for (const bad of ["$(touch canary)", "-x", "a..b"]) {
    const r = await w.paw(["start", "--cli", "demo", `--branches=ok,${bad}`]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /^error: Branch error: invalid branch name/);
    assert.ok(!exists(join(w.root, "proj-ok")), "no worktree for ok");
    assert.equal((await statusJson(w)).session, null);
    assert.equal((await w.tmux(["has-session", "-t", "=paw-proj"])).code, 1);
  }
  const u = await w.paw(["start", "--cli", "no-such-cli", "--branches", "ok"]);
  assert.equal(u.code, 1);
  assert.match(u.stderr, /unknown CLI 'no-such-cli'/);
  assert.ok(!exists(join(w.root, "proj-ok")));
  const many = Array.from({ length: 26 }, (_, i) => `b${i}`).join(",");
  const m = await w.paw(["start", "--cli", "demo", "--branches", many]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /26 agents requested; maximum is 25/);
  const nb = await w.paw(["start", "--cli", "demo"]);
  assert.equal(nb.code, 2);
  assert.match(nb.stderr, /--branches/);
  const nc = await w.paw(["start", "--branches", "a"]);
  assert.equal(nc.code, 2);
  assert.match(nc.stderr, /--cli/);
  const np = await w.paw(["start", "--preset", "nope"]);
  assert.equal(np.code, 1);
  assert.match(np.stderr, /preset 'nope' not found/);
  const out = await w.paw(["status"], w.root);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /Not a git repository/);
});

Deno.test("an agent pane whose CLI exits early discards pending text and opens a shell only on Enter", async () => {
  await using w = await makeWorld({ project: "proj" });
  await w.writeConfig(`[clis.early]\ncommand = "${EARLY}"\n`);
  const canary = join(w.root, "canary");
  const r = await w.paw(["start", "--cli", "early", "--branches", "feat/x"]);
  assert.equal(r.code, 0, r.stderr);
  const wt = join(w.root, "proj-feat-x");
  const ps = await panes(w, "paw-proj");
  const pane = ps.find((p) => p.agent === "feat-x")!.id;
  // Text typed while the CLI runs and never reads it (with newlines that
  // would act as Enter in a shell).
  await w.tmux(["send-keys", "-l", "-t", pane, `touch ${canary}1\n`]);
  await Deno.writeTextFile(join(wt, ".go"), "");
  await waitFor(
    "guard prompt",
    async () => (await capture(w, pane)).includes("early exited (code 3)"),
    30_000,
  );
  // Text arriving after the prompt is ignored as well.
  await w.tmux(["send-keys", "-l", "-t", pane, `touch ${canary}2\n`]);
  await openGuardShell(w, pane);
  const ok = join(wt, "shell-ok");
  await waitFor("shell prompt in the worktree", async () => {
    await w.tmux(["send-keys", "-l", "-t", pane, `touch ${ok}\n`]);
    return exists(ok);
  }, 30_000);
  // The shell ran our later command; anything queued before it would have
  // run first.
  assert.ok(!exists(`${canary}1`), "text typed before exit ran in a shell");
  assert.ok(!exists(`${canary}2`), "text typed at the prompt ran in a shell");
});
