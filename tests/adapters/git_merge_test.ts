import assert from "node:assert/strict";
import { join } from "node:path";
import {
  branchTips,
  isAncestorQuick,
  mergeTrees,
} from "../../lib/adapters/git_merge.ts";
import { runCapped } from "../../lib/adapters/runner.ts";
import { makeReviewRepo } from "../session/review_fixture.ts";

Deno.test("isAncestorQuick() answers from loose objects and after a gc from git", async () => {
  await using r = await makeReviewRepo(["side"]);
  const common = join(r.repo, ".git");
  const a = await r.git(["rev-parse", "HEAD"]);
  const b = await r.commit(r.repo, { "b.txt": "b\n" }, "b");
  const c = await r.commit(r.repo, { "c.txt": "c\n" }, "c");
  const side = await r.commit(r.worktrees.side!, { "s.txt": "s\n" }, "s");
  for (const round of ["loose", "packed"]) {
    assert.equal(await isAncestorQuick(r.repo, common, a, c), true, round);
    assert.equal(await isAncestorQuick(r.repo, common, b, c), true, round);
    assert.equal(await isAncestorQuick(r.repo, common, c, a), false, round);
    assert.equal(await isAncestorQuick(r.repo, common, side, c), false, round);
    assert.equal(await isAncestorQuick(r.repo, common, a, side), true, round);
    await r.git(["gc", "-q"]);
  }
});

Deno.test("mergeTrees() gives the tree or the conflicting files; branchTips() reads loose and packed refs", async () => {
  await using r = await makeReviewRepo(["x", "y"]);
  await r.commit(r.worktrees.x!, { "README.md": "x\n" }, "x");
  const y = await r.commit(r.worktrees.y!, { "README.md": "y\n" }, "y");
  const m = await mergeTrees(r.repo, "x", "y");
  assert.deepEqual(m, { ok: false, files: ["README.md"] });
  const ok = await mergeTrees(r.repo, "main", "y");
  assert.equal(ok.ok, true);
  await r.git(["pack-refs", "--all"]);
  const tips = await branchTips(r.repo, ["y", "main", "nope"]);
  assert.equal(tips.get("y"), y);
  assert.ok(tips.get("main"));
  assert.equal(tips.has("nope"), false);
});

Deno.test("runCapped() keeps the head and tail of a large output, kills on timeout and abort", async () => {
  const big = await runCapped("sh", [
    "-c",
    "i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done; exit 3",
  ], { maxBytes: 400 });
  assert.equal(big.code, 3);
  assert.ok(big.dropped > 0);
  assert.match(big.output, /^line-0\n/);
  assert.match(big.output, /line-1999\n$/);
  assert.match(big.output, /bytes dropped/);
  assert.ok(big.output.length < 600);
  const slow = await runCapped("sh", ["-c", "sleep 5"], { timeoutMs: 100 });
  assert.equal(slow.timedOut, true);
  assert.equal(slow.code, 124);
  const ctl = new AbortController();
  const p = runCapped("sh", ["-c", "sleep 5"], { signal: ctl.signal });
  setTimeout(() => ctl.abort(), 50);
  const ab = await p;
  assert.equal(ab.aborted, true);
  assert.equal(ab.code, 130);
  const missing = await runCapped("no-such-program-paw", []);
  assert.equal(missing.code, 127);
});
