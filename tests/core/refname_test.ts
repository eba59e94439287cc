import assert from "node:assert/strict";
import {
  branchNameProblem,
  isValidBranchName,
} from "../../lib/core/refname.ts";

Deno.test("branchNameProblem() accepts ordinary and shell-looking branch names", () => {
  for (
    const name of [
      "main",
      "feat/auth",
      "fix/issue#42",
      "a/HEAD",
      "HEADS",
      "x@y",
      "a/@",
      "a.b/c.d",
      "v1.2-rc",
      "a.lockx",
      "lock",
      "g/ünïcødé-枝",
      "a/$(touch${IFS}canary)",
      "c;touch${IFS}canary",
      "h/&&x&",
      "e/'q'\"d\"",
      "{a}",
    ]
  ) {
    assert.equal(branchNameProblem(name), null, name);
    assert.equal(isValidBranchName(name), true, name);
  }
});

Deno.test("branchNameProblem() names what is wrong with a refused name", () => {
  const cases: [string, string][] = [
    ["", "it is empty"],
    ["-rf", "it starts with '-'"],
    ["HEAD", "'HEAD' is reserved by git"],
    ["@", "'@' is reserved by git"],
    ["a\nb", "it contains control characters"],
    ["a\u0085b", "it contains control characters"],
    ["a\ud800", "it is not valid Unicode"],
    ["a b", "it contains a space"],
    ["a~1", "it contains '~'"],
    ["a^", "it contains '^'"],
    ["a:b", "it contains ':'"],
    ["a?", "it contains '?'"],
    ["a*", "it contains '*'"],
    ["a[b", "it contains '['"],
    ["a\\b", "it contains '\\'"],
    ["@{-1}", "it contains '@{'"],
    ["a..b", "it contains '..'"],
    ["/a", "it starts with '/'"],
    ["a/", "it ends with '/'"],
    ["a//b", "it contains '//'"],
    ["a.", "it ends with '.'"],
    [".a", "a part of it starts with '.'"],
    ["a/./b", "a part of it starts with '.'"],
    ["end.lock", "a part of it ends with '.lock'"],
    ["a.lock/b", "a part of it ends with '.lock'"],
  ];
  for (const [name, why] of cases) {
    assert.equal(branchNameProblem(name), why, JSON.stringify(name));
    assert.equal(isValidBranchName(name), false, JSON.stringify(name));
  }
});
