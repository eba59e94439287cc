/**
 * Gemini CLI folder trust for agent worktrees. Gemini keeps the user's
 * answers in `~/.gemini/trustedFolders.json` (`{"<path>": "TRUST_FOLDER" |
 * "TRUST_PARENT" | "DO_NOT_TRUST"}`) and asks "Do you trust this folder?" in
 * every folder no rule covers — a linked worktree lives beside the repo, so
 * a trusted repo's worktrees would each ask (and Gemini restarts after the
 * answer). When the user trusts the repo there, git-paw adds the worktree
 * with `TRUST_FOLDER`; an untrusted or unknown repo still asks, as Gemini
 * decides. Teardown removes exactly the entry git-paw added.
 * Needs `--allow-read`, `--allow-write`, `--allow-env` (HOME).
 * @module
 */
import { dirname, join, sep } from "node:path";
import { readTextOrNull } from "../adapters/fs.ts";

/** The value git-paw writes for a worktree. */
const TRUST = "TRUST_FOLDER";

/** The trust file under `home`. */
export function trustedFoldersFile(home: string): string {
  return join(home, ".gemini", "trustedFolders.json");
}

type Rules = Record<string, string>;

async function readRules(file: string): Promise<Rules | null> {
  const text = await readTextOrNull(file);
  if (text === null) return null;
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v as Rules : null;
  } catch {
    return null;
  }
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * The trust Gemini gives `path` under `rules`: the most specific rule that
 * covers it (`TRUST_PARENT` covers the rule path's parent), or null. Pure.
 */
function trustOf(rules: Rules, path: string): boolean | null {
  let best: { len: number; trusted: boolean } | null = null;
  for (const [p, v] of Object.entries(rules)) {
    const dir = v === "TRUST_PARENT" ? dirname(p) : p;
    if (!within(path, dir)) continue;
    if (!best || dir.length >= best.len) {
      best = { len: dir.length, trusted: v !== "DO_NOT_TRUST" };
    }
  }
  return best?.trusted ?? null;
}

/**
 * Read-modify-write of the trust file, one at a time in this process: a
 * batch setup trusts several worktrees at once, and two concurrent
 * rewrites would lose one entry.
 */
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

/**
 * Trust `worktree` when the user trusts `repo` and no rule covers the
 * worktree yet. Returns the file and path added, or null (nothing done).
 */
export function trustGeminiWorktree(
  opts: Parameters<typeof trustNow>[0],
): Promise<{ file: string; path: string } | null> {
  return serial(() => trustNow(opts));
}

async function trustNow(
  opts: {
    home: string;
    /** The trust file, when not under `home` (`GEMINI_CLI_TRUSTED_FOLDERS_PATH`). */
    file?: string | undefined;
    repo: string;
    worktree: string;
  },
): Promise<{ file: string; path: string } | null> {
  const file = opts.file || trustedFoldersFile(opts.home);
  const rules = await readRules(file);
  if (!rules || trustOf(rules, opts.repo) !== true) return null;
  if (trustOf(rules, opts.worktree) !== null) return null;
  rules[opts.worktree] = TRUST;
  await Deno.writeTextFile(file, JSON.stringify(rules, null, 2) + "\n", {
    mode: 0o600,
  });
  return { file, path: opts.worktree };
}

/** Remove the entry {@link trustGeminiWorktree} added (when still ours). */
export function untrustGeminiWorktree(
  added: { file: string; path: string },
): Promise<void> {
  return serial(() => untrustNow(added));
}

async function untrustNow(
  added: { file: string; path: string },
): Promise<void> {
  const rules = await readRules(added.file);
  if (!rules || rules[added.path] !== TRUST) return;
  delete rules[added.path];
  await Deno.writeTextFile(
    added.file,
    JSON.stringify(rules, null, 2) + "\n",
  );
}
