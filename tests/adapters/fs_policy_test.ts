import assert from "node:assert/strict";
import { join } from "node:path";
import { resolvePolicyPaths } from "../../lib/adapters/fs.ts";
import { decideApproval } from "../../lib/core/approval_policy.ts";

const POLICY = { allow: [], deny: [], worktree_writes: "allow" as const };

Deno.test("resolvePolicyPaths() sees through symlinks and ..", async () => {
  const tmp = await Deno.realPath(await Deno.makeTempDir());
  try {
    const wt = join(tmp, "wt");
    const outside = join(tmp, "outside");
    await Deno.mkdir(join(wt, "src"), { recursive: true });
    await Deno.mkdir(outside);
    await Deno.symlink(outside, join(wt, "link")); // a dir link out
    await Deno.symlink(join(outside, "new.txt"), join(wt, "dangling"));
    await Deno.symlink(wt, join(tmp, "wt-alias")); // the worktree via a link
    await Deno.mkdir(join(wt, "d1", "d2"), { recursive: true });
    await Deno.symlink(join(wt, "d1", "d2"), join(wt, "deep"));
    const raws = [
      "src/a.ts",
      "link/x.txt",
      "dangling",
      "src/../../outside/y",
      "new/dir/z.ts",
      join(tmp, "wt-alias", "src", "b.ts"),
      "link/../src/c.ts",
      "deep/../../../x",
    ];
    const r = await resolvePolicyPaths(wt, join(tmp, "wt-alias"), raws);
    assert.equal(r.worktree, wt);
    assert.deepEqual(r.paths, {
      "src/a.ts": join(wt, "src/a.ts"),
      "link/x.txt": join(outside, "x.txt"),
      "dangling": join(outside, "new.txt"),
      "src/../../outside/y": join(outside, "y"),
      "new/dir/z.ts": join(wt, "new/dir/z.ts"),
      [join(tmp, "wt-alias", "src", "b.ts")]: join(wt, "src/b.ts"),
      // The shell resolves `link/..` through the link: outside/.. = tmp.
      "link/../src/c.ts": join(tmp, "src/c.ts"),
      // The kernel lands in the worktree, `path.resolve` outside: outside.
      "deep/../../../x": join(tmp, "x"),
    });
    const verdict = (p: string) =>
      decideApproval({ kind: "write", paths: [p] }, POLICY, r).decision;
    assert.equal(verdict("src/a.ts"), "allow");
    assert.equal(verdict("new/dir/z.ts"), "allow");
    assert.equal(verdict(join(tmp, "wt-alias", "src", "b.ts")), "allow");
    assert.equal(verdict("link/x.txt"), "ask");
    assert.equal(verdict("dangling"), "ask");
    assert.equal(verdict("src/../../outside/y"), "ask");
    assert.equal(verdict("link/../src/c.ts"), "ask");
    assert.equal(verdict("deep/../../../x"), "ask");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
