/**
 * git-paw's managed block in `<git-common-dir>/info/exclude`: the one exclude
 * file git reads for every worktree of a repo (a linked worktree's own
 * `.git/worktrees/<n>/info/exclude` is never read). Needs `--allow-read`,
 * `--allow-write`.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { withLock } from "./_lock.ts";

const START = "# >>> git-paw managed exclude >>>";
const END = "# <<< git-paw managed exclude <<<";
const NOTE =
  "# Files git-paw generates in agent worktrees; removed when the last agent worktree is torn down.";

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return fallback;
    throw e;
  }
}

function split(content: string): { outside: string[]; ours: string[] } {
  const lines = content.split("\n");
  const s = lines.indexOf(START);
  if (s < 0) return { outside: lines, ours: [] };
  let e = lines.indexOf(END, s + 1);
  if (e < 0) e = lines.length - 1;
  return {
    outside: [...lines.slice(0, s), ...lines.slice(e + 1)],
    ours: lines.slice(s + 1, e).filter((l) => l !== "" && !l.startsWith("#")),
  };
}

/** Path of the shared exclude file. */
export function excludeFile(commonDir: string): string {
  return join(commonDir, "info", "exclude");
}

/** Patterns currently in git-paw's block. */
export async function sharedExcludes(commonDir: string): Promise<string[]> {
  return split(await readOr(excludeFile(commonDir), "")).ours;
}

/**
 * Add `patterns` (e.g. `/AGENTS.md`) to git-paw's block, after the ones
 * already there; idempotent. Concurrent calls in one process queue up.
 */
export function addSharedExcludes(
  commonDir: string,
  patterns: string[],
): Promise<void> {
  const file = excludeFile(commonDir);
  return withLock(resolve(file), () => addUnlocked(file, patterns));
}

async function addUnlocked(file: string, patterns: string[]): Promise<void> {
  const content = await readOr(file, "");
  const { outside, ours } = split(content);
  const merged = [...new Set([...ours, ...patterns])];
  if (merged.length === ours.length && content.includes(START)) return;
  while (outside.length && outside[outside.length - 1] === "") outside.pop();
  const next = [...outside, START, NOTE, ...merged, END, ""].join("\n");
  await Deno.mkdir(dirname(file), { recursive: true });
  await Deno.writeTextFile(file, next);
}

/** Drop git-paw's block, keeping every other line. */
export function removeSharedExcludes(commonDir: string): Promise<void> {
  const file = excludeFile(commonDir);
  return withLock(resolve(file), () => removeUnlocked(file));
}

async function removeUnlocked(file: string): Promise<void> {
  const content = await readOr(file, "");
  if (!content.includes(START)) return;
  const { outside } = split(content);
  while (outside.length && outside[outside.length - 1] === "") outside.pop();
  await Deno.writeTextFile(
    file,
    outside.length ? outside.join("\n") + "\n" : "",
  );
}
