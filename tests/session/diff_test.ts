/**
 * `git paw diff`: each agent's branch against its merge base with the
 * default branch, in a real repo with worktrees and a session receipt.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CALLER, DOCS, makeReviewRepo } from "./review_fixture.ts";

Deno.test("git paw diff shows each agent's commits against the merge base, not main's later commits", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b"]);
  await r.commit(r.worktrees["feat-a"]!, CALLER, "add welcome");
  await r.commit(r.worktrees["feat-b"]!, DOCS, "notes");
  // main moves on after the branches forked: not part of any agent's diff.
  await r.commit(r.repo, { "MAIN_ONLY.md": "x\n" }, "main moves");
  // An uncommitted edit: only with --worktree.
  await Deno.writeTextFile(
    join(r.worktrees["feat-a"]!, "README.md"),
    "dirty\n",
  );
  await Deno.writeTextFile(join(r.worktrees["feat-a"]!, "new.txt"), "n\n");

  const all = await r.paw(["diff"]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(
    all.stdout,
    /== feat-a \(feat-a\) vs main @ [0-9a-f]{12}: 2 files, \+2 -0/,
  );
  assert.match(
    all.stdout,
    /== feat-b \(feat-b\) vs main @ [0-9a-f]{12}: 1 files, \+1 -0/,
  );
  assert.match(all.stdout, /\+welcome\(\) \{ greet "\$1"; \}/);
  assert.doesNotMatch(all.stdout, /MAIN_ONLY|dirty/);

  const one = await r.paw(["diff", "feat-b", "--stat"]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /docs\/notes\.md \| 1 \+/);
  assert.doesNotMatch(one.stdout, /feat-a|welcome/);

  const json = await r.paw(["diff", "feat-a", "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.base, "main");
  assert.equal(doc.agents.length, 1);
  const a = doc.agents[0];
  assert.equal(a.agent, "feat-a");
  assert.deepEqual(
    a.files.map((f: { path: string; status: string }) => [f.path, f.status]),
    [["src/welcome.sh", "added"], ["tests/welcome_test.sh", "added"]],
  );
  assert.deepEqual(a.files[0].hunks[0].lines, [
    { kind: "add", text: 'welcome() { greet "$1"; }', old: null, new: 1 },
  ]);

  const wt = await r.paw(["diff", "feat-a", "--worktree", "--json"]);
  const w = JSON.parse(wt.stdout).agents[0];
  assert.deepEqual(
    w.files.map((f: { path: string }) => f.path).sort(),
    ["README.md", "src/welcome.sh", "tests/welcome_test.sh"],
  );
  assert.deepEqual(w.untracked, ["new.txt"]);
});

Deno.test("git paw diff names the known agents for an unknown one and exits 2", async () => {
  await using r = await makeReviewRepo(["feat-a"]);
  const out = await r.paw(["diff", "nobody"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /no agent 'nobody'.*agents: feat-a/);
});
