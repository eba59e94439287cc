/**
 * How git-paw runs git — the one environment policy — in a module small
 * enough for `main.ts` to load before the commands (it asks `start`'s first
 * git question ahead).
 * @module
 */

/**
 * Set over the inherited environment of every git call: never open an
 * editor or ask for credentials from inside git-paw, and take no optional
 * locks (a `git status` of ours must not fight the agent's own git).
 */
export const GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_EDITOR: "true",
  GIT_SEQUENCE_EDITOR: "true",
  GIT_MERGE_AUTOEDIT: "no",
  GIT_OPTIONAL_LOCKS: "0",
};

/**
 * Variables that make git find its git dirs somewhere other than through
 * `<top>/.git`: while one is set, the layout reader leaves the question to
 * git (`gitDirsFromLayout()`).
 */
export const GIT_DIR_ENV: readonly string[] = [
  "GIT_DIR",
  "GIT_COMMON_DIR",
  "GIT_WORK_TREE",
];

/**
 * Variables that point git at a repository, index or subdirectory other
 * than the one `cwd` is in. They are inherited (a caller may mean them),
 * except by calls that must look at a given worktree whatever the caller's
 * environment says (`isolated` in `gitTry()`).
 */
export const GIT_LAYOUT_ENV: readonly string[] = [
  ...GIT_DIR_ENV,
  "GIT_INDEX_FILE",
  "GIT_PREFIX",
];

/** `git rev-parse` arguments of `repoRoot()`: top, git dir, common dir. */
export const REPO_ROOT_ARGS: readonly string[] = [
  "rev-parse",
  "--path-format=absolute",
  "--show-toplevel",
  "--git-dir",
  "--git-common-dir",
];
