/**
 * How git-paw runs git, in a module small enough for `main.ts` to load
 * before the commands (it asks `start`'s first git question ahead).
 * @module
 */

/** Never let git open an editor or ask for credentials from inside git-paw. */
export const GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_EDITOR: "true",
  GIT_SEQUENCE_EDITOR: "true",
  GIT_MERGE_AUTOEDIT: "no",
};

/** `git rev-parse` arguments of `repoRoot()`: top, git dir, common dir. */
export const REPO_ROOT_ARGS: readonly string[] = [
  "rev-parse",
  "--path-format=absolute",
  "--show-toplevel",
  "--git-dir",
  "--git-common-dir",
];
