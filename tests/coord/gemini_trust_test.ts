import assert from "node:assert/strict";
import { join } from "node:path";
import {
  trustedFoldersFile,
  trustGeminiWorktree,
  untrustGeminiWorktree,
} from "../../lib/coord/gemini_trust.ts";

Deno.test("trustGeminiWorktree() for several worktrees at once keeps every entry, and untrust removes each", async () => {
  const home = await Deno.makeTempDir();
  try {
    const file = trustedFoldersFile(home);
    await Deno.mkdir(join(home, ".gemini"));
    const before = JSON.stringify({ "/r/repo": "TRUST_FOLDER" }, null, 2) +
      "\n";
    await Deno.writeTextFile(file, before);
    const wts = ["/r/a", "/r/b", "/r/c", "/r/d"];
    const added = await Promise.all(
      wts.map((worktree) =>
        trustGeminiWorktree({ home, repo: "/r/repo", worktree })
      ),
    );
    assert.deepEqual(added.map((a) => a?.path), wts);
    const rules = JSON.parse(await Deno.readTextFile(file));
    for (const w of wts) assert.equal(rules[w], "TRUST_FOLDER", w);
    await Promise.all(added.map((a) => untrustGeminiWorktree(a!)));
    assert.equal(await Deno.readTextFile(file), before);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
