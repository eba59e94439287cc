import assert from "node:assert/strict";
import { branchNameProblem } from "../../lib/core/refname.ts";
import { validateBranchName } from "../../lib/adapters/git.ts";
import { AppError } from "../../lib/core/errors.ts";
import { makeRepo } from "../_helpers/repo.ts";

const dec = new TextDecoder();

/** git's verdict: accepted by `check-ref-format --branch` AND printed unchanged. */
async function gitAccepts(repo: string, name: string): Promise<boolean> {
  const out = await new Deno.Command("git", {
    args: ["check-ref-format", "--branch", name],
    cwd: repo,
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).output();
  return out.code === 0 && dec.decode(out.stdout) === `${name}\n`;
}

/**
 * Our documented extra rules git does not have: no C1 control characters,
 * and not `@` (git's shorthand for HEAD in most commands).
 */
function ourExtraRefusal(name: string): boolean {
  return name === "@" || /[\u0080-\u009f]/.test(name);
}

const HOSTILE = [
  "$(touch canary)",
  "a/$(touch${IFS}canary)",
  "`touch canary`",
  "b/`id`",
  "c;rm${IFS}x",
  "d|cat",
  "e/'q'\"d\"",
  "f/#(touch)",
  "h/&&x&",
  "a b",
  " a",
  "a ",
  "-rf",
  "--help",
  "-",
  "a..b",
  "..",
  ".",
  "a/./b",
  "a/../b",
  ".hidden",
  "a/.b",
  "a.",
  "a/b.",
  "end.lock",
  "a.lock/b",
  "a/.lock",
  "a.lock.b",
  ".lock",
  "@",
  "@@",
  "a@",
  "@a",
  "a/@",
  "@/a",
  "@{-1}",
  "@{u}",
  "a@{u}",
  "a@{",
  "a{b}",
  "HEAD",
  "a/HEAD",
  "head",
  "HEAD/a",
  "FETCH_HEAD",
  "refs/heads/x",
  "/a",
  "a/",
  "a//b",
  "a~1",
  "a^",
  "a:b",
  "a?",
  "a*",
  "a[b",
  "a]b",
  "a\\b",
  "a\tb",
  "a\nb",
  "a\x7fb",
  "a\x01",
  "a\u0085b",
  "g/ünïcødé-枝",
  "é",
  "🐾/paw",
  "a\u00a0b",
  "a\u200bb",
  "x".repeat(200),
  "",
];

// A small seeded PRNG (mulberry32) so the corpus is the same on every run.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Letters are common so many strings are valid; every special character git
// treats specially appears often enough to meet every rule.
const ALPHABET = [
  ..."abcxyz019_-",
  ..."abcxyz",
  ..."////....",
  ..."@@{}",
  ..."lock",
  ".lock",
  "HEAD",
  ..."~^:?*[]\\ ",
  "\t",
  "\x7f",
  "\x1b",
  "é",
  "枝",
  "\u0085",
  ..."#$()`;|'\"&!%,=+<>",
];

function randomNames(count: number, seed: number): string[] {
  const r = rng(seed);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = 1 + Math.floor(r() * 9);
    let s = "";
    for (let j = 0; j < len; j++) {
      s += ALPHABET[Math.floor(r() * ALPHABET.length)];
    }
    names.push(s);
  }
  return names;
}

Deno.test("branchNameProblem() agrees with git check-ref-format --branch on hostile and random names", async () => {
  await using r = await makeRepo();
  const corpus = [...new Set([...HOSTILE, ...randomNames(400, 20261122)])];
  let valid = 0;
  const mismatches: string[] = [];
  const queue = [...corpus];
  const worker = async () => {
    for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
      const expected = name !== "" && await gitAccepts(r.repo, name) &&
        !ourExtraRefusal(name);
      const ours = branchNameProblem(name) === null;
      if (ours) valid++;
      if (ours !== expected) {
        mismatches.push(
          `${JSON.stringify(name)}: git ${expected ? "accepts" : "refuses"}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  assert.deepEqual(mismatches, []);
  // The corpus exercises both verdicts in quantity.
  assert.ok(valid >= 50, `only ${valid} valid names`);
  assert.ok(
    corpus.length - valid >= 150,
    `only ${corpus.length - valid} refused`,
  );
});

Deno.test("validateBranchName() throws a Branch error naming the problem", async () => {
  await assert.rejects(() => validateBranchName("a..b"), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, "bad_branch");
    assert.equal(e.exitCode, 2);
    assert.equal(
      e.message,
      `Branch error: invalid branch name "a..b": it contains '..'`,
    );
    return true;
  });
  await validateBranchName("feat/ok");
});
