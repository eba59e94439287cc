/**
 * remove and purge never delete a worktree's ignored files (a `.env` listed
 * in `.gitignore`) unasked: they list them and refuse unless `--force`;
 * git-paw's own files in the worktree (AGENTS.md, hooks) never count.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { capture, exists, makeWorld, panes, waitFor } from "./e2e_helpers.ts";

Deno.test("git paw remove and purge refuse to delete a worktree's ignored .env without --force", async (t) => {
  await using w = await makeWorld({ project: "proj" });
  await Deno.writeTextFile(join(w.repo, ".gitignore"), ".env\n");
  // Hooks inside the worktrees: git-paw writes (and hides) files there too.
  await w.git(["config", "core.hooksPath", ".githooks"]);
  for (const a of [["add", ".gitignore"], ["commit", "-q", "-m", "ignore"]]) {
    const r = await w.git(a);
    assert.equal(r.code, 0, r.stderr);
  }
  const start = await w.paw([
    "start",
    "--cli",
    "demo",
    "--branches",
    "a,b,c",
  ]);
  assert.equal(start.code, 0, start.stderr);
  const wt = (b: string) => join(w.root, `proj-${b}`);
  assert.ok(exists(join(wt("a"), "AGENTS.md")));
  assert.ok(exists(join(wt("a"), ".githooks", "post-commit")));
  // Each demo agent commits its first file: wait until it has, and its
  // worktree is clean again.
  for (const b of ["a", "b", "c"]) {
    await waitFor(`${b} committed`, async () => {
      const log = await w.git(["log", "--format=%s", "-1"], wt(b));
      // No optional index lock: the agent's own `git add` must not collide.
      const st = await w.git(
        ["--no-optional-locks", "status", "--porcelain"],
        wt(b),
      );
      return log.stdout.startsWith("demo(") && st.stdout === "";
    }, 60_000).catch(async (e) => {
      // What the agent's pane and git say, for the failure message.
      const pane = (await panes(w, "paw-proj")).find((p) => p.agent === b);
      const screen = pane ? await capture(w, pane.id) : "(no pane)";
      const st = await w.git(["status", "--porcelain"], wt(b));
      throw new Error(
        `${
          (e as Error).message
        }\n--- pane ${b} ---\n${screen}\n--- git status ---\n${st.stdout}`,
      );
    });
  }

  await t.step("git-paw's own files do not hold remove back", async () => {
    const r = await w.paw(["remove", "a"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!exists(wt("a")));
  });

  await t.step(
    "remove lists an ignored .env and refuses; --force deletes it",
    async () => {
      await Deno.writeTextFile(join(wt("b"), ".env"), "TOKEN=precious\n");
      const r = await w.paw(["remove", "b"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /cannot remove 'b': ignored files in 1 worktree\(s\) — .*proj-b: \.env \(ignored\)\..*--force/,
      );
      assert.doesNotMatch(r.stderr, /AGENTS\.md|post-commit/);
      assert.equal(
        await Deno.readTextFile(join(wt("b"), ".env")),
        "TOKEN=precious\n",
      );
      assert.ok((await panes(w, "paw-proj")).some((p) => p.agent === "b"));
      const f = await w.paw(["remove", "--force", "b"]);
      assert.equal(f.code, 0, f.stderr);
      assert.ok(!exists(wt("b")));
    },
  );

  await t.step("purge refuses the same way", async () => {
    await Deno.writeTextFile(join(wt("c"), ".env"), "TOKEN=precious\n");
    const r = await w.paw(["purge"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot purge: ignored files .*\.env \(ignored\)/);
    assert.ok(exists(join(wt("c"), ".env")));
    const f = await w.paw(["purge", "--force"]);
    assert.equal(f.code, 0, f.stderr);
    assert.ok(!exists(wt("c")));
  });
});
