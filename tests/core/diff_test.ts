import assert from "node:assert/strict";
import { diffSummary, parseUnifiedDiff } from "../../lib/core/diff.ts";

Deno.test("parseUnifiedDiff() numbers lines per side and reads renames, deletions and binaries", () => {
  const text = [
    "diff --git a/old.txt b/new.txt",
    "similarity index 80%",
    "rename from old.txt",
    "rename to new.txt",
    "--- a/old.txt",
    "+++ b/new.txt",
    "@@ -2,3 +2,3 @@ ctx",
    " keep",
    "-gone",
    "+came",
    " end",
    "\\ No newline at end of file",
    "diff --git a/del.txt b/del.txt",
    "deleted file mode 100644",
    "--- a/del.txt",
    "+++ /dev/null",
    "@@ -1 +0,0 @@",
    "-x",
    'diff --git "a/sp\\303\\251 c" "b/sp\\303\\251 c"',
    "Binary files a/x and b/x differ",
    "",
  ].join("\n");
  const files = parseUnifiedDiff(text);
  assert.equal(files.length, 3);
  const [ren, del, bin] = files;
  assert.equal(ren!.status, "renamed");
  assert.equal(ren!.path, "new.txt");
  assert.equal(ren!.old_path, "old.txt");
  assert.deepEqual(ren!.hunks[0]!.lines, [
    { kind: "context", text: "keep", old: 2, new: 2 },
    { kind: "del", text: "gone", old: 3, new: null },
    { kind: "add", text: "came", old: null, new: 3 },
    { kind: "context", text: "end", old: 4, new: 4 },
  ]);
  assert.equal(del!.status, "deleted");
  assert.equal(del!.path, "del.txt");
  assert.equal(del!.hunks[0]!.new_lines, 0);
  assert.equal(bin!.path, "spé c");
  assert.equal(bin!.binary, true);
  assert.deepEqual(diffSummary(files), {
    files: 3,
    additions: 1,
    deletions: 2,
  });
});
