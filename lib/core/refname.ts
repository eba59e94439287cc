/**
 * Branch-name validation without running git: the rules of
 * git-check-ref-format(1) for `refs/heads/<name>` (as
 * `git check-ref-format --branch` applies them), plus git-paw's own: nothing
 * that looks like an option, no `@{…}` shorthands or `@`/`HEAD` that git
 * would expand or rewrite, no control characters at all. Pure.
 * @module
 */

// ASCII characters git never allows in a ref name (refs.c,
// refname_disposition 4), plus `*` (allowed only in refspec patterns).
const BAD_CHARS: ReadonlyMap<string, string> = new Map([
  [" ", "a space"],
  ["~", "'~'"],
  ["^", "'^'"],
  [":", "':'"],
  ["?", "'?'"],
  ["*", "'*'"],
  ["[", "'['"],
  ["\\", "'\\'"],
]);

/**
 * Why `name` is not a usable branch name, or `null` when it is. A name is
 * refused when `git check-ref-format --branch` refuses it or would print
 * something else, and also when it contains any control character
 * (including U+0080–U+009F, which git accepts) or is not well-formed Unicode.
 *
 * @example
 * ```ts
 * import { branchNameProblem } from "./refname.ts";
 * branchNameProblem("feat/auth"); // null
 * branchNameProblem("a..b"); // "it contains '..'"
 * ```
 */
export function branchNameProblem(name: string): string | null {
  if (name === "") return "it is empty";
  if (name.startsWith("-")) return "it starts with '-'";
  if (name === "HEAD" || name === "@") return `'${name}' is reserved by git`;
  if (!name.isWellFormed()) return "it is not valid Unicode";
  if (/\p{Cc}/u.test(name)) return "it contains control characters";
  for (const ch of name) {
    const what = BAD_CHARS.get(ch);
    if (what) return `it contains ${what}`;
  }
  if (name.includes("@{")) return "it contains '@{'";
  if (name.includes("..")) return "it contains '..'";
  if (name.startsWith("/")) return "it starts with '/'";
  if (name.endsWith("/")) return "it ends with '/'";
  if (name.includes("//")) return "it contains '//'";
  if (name.endsWith(".")) return "it ends with '.'";
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return "a part of it starts with '.'";
    if (part.endsWith(".lock")) return "a part of it ends with '.lock'";
  }
  return null;
}

/** True when {@link branchNameProblem} finds nothing wrong with `name`. */
export function isValidBranchName(name: string): boolean {
  return branchNameProblem(name) === null;
}
