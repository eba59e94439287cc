import assert from "node:assert/strict";
import {
  dirPart,
  sessionBaseName,
  slugify,
  worktreeDirName,
} from "../../lib/core/slug.ts";

Deno.test("slugify() follows the original's rules", () => {
  assert.equal(slugify("feat/Auth"), "feat-auth");
  assert.equal(slugify("feat//x--y"), "feat-x-y");
  assert.equal(slugify("--Fix_It--"), "fix_it");
  assert.equal(slugify("///"), "agent");
  assert.equal(slugify("é"), "agent");
  assert.equal(slugify("supervisor"), "supervisor");
});

Deno.test("worktreeDirName() maps non-alphanumerics to dashes without collapsing", () => {
  assert.equal(worktreeDirName("proj", "feat/auth"), "proj-feat-auth");
  assert.equal(worktreeDirName("proj", "fix/issue#42"), "proj-fix-issue-42");
  assert.equal(dirPart("a//b"), "a--b");
  assert.equal(dirPart("Ünï/x"), "Ünï-x");
});

Deno.test("sessionBaseName() sanitises the project for tmux", () => {
  assert.equal(sessionBaseName("my.proj"), "paw-my-proj");
  assert.equal(sessionBaseName("a b:c"), "paw-a-b-c");
  assert.equal(sessionBaseName("..."), "paw-project");
});
