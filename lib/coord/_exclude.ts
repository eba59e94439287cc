/**
 * git-paw's managed block in `<git-common-dir>/info/exclude`: the one exclude
 * file git reads for every worktree of a repo (a linked worktree's own
 * `.git/worktrees/<n>/info/exclude` is never read). Needs `--allow-read`,
 * `--allow-write`.
 * @module
 */
import { dirname, join, resolve } from "node:path";
import {
  blockBody,
  type BlockMarkers,
  removeBlock,
  upsertBlock,
} from "../core/managed_block.ts";
import { withLock } from "./_lock.ts";
import { readTextOrNull } from "../adapters/fs.ts";

const MARKERS: BlockMarkers = {
  begin: "# >>> git-paw managed exclude >>>",
  end: "# <<< git-paw managed exclude <<<",
};
const NOTE =
  "# Files git-paw generates in agent worktrees; removed when the last agent worktree is torn down.";

async function readOr(path: string, fallback: string): Promise<string> {
  return await readTextOrNull(path) ?? fallback;
}

/** The patterns of git-paw's block in `content` (comments and blanks left out). */
function ours(content: string): string[] | null {
  return blockBody(content, MARKERS)?.split("\n")
    .filter((l) => l !== "" && !l.startsWith("#")) ?? null;
}

/** Path of the shared exclude file. */
function excludeFile(commonDir: string): string {
  return join(commonDir, "info", "exclude");
}

/** Patterns currently in git-paw's block. */
export async function sharedExcludes(commonDir: string): Promise<string[]> {
  return ours(await readOr(excludeFile(commonDir), "")) ?? [];
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
  const have = ours(content);
  const merged = [...new Set([...have ?? [], ...patterns])];
  if (have !== null && merged.length === have.length) return;
  const next = upsertBlock(content, [NOTE, ...merged].join("\n"), MARKERS, {
    gap: false,
  });
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
  const next = removeBlock(content, MARKERS);
  if (next !== content) await Deno.writeTextFile(file, next);
}
