/**
 * The per-worktree agent marker: `<git-dir>/paw-agent-id`, JSON. Linked
 * worktrees share one hooks directory, so the hooks read this file to learn
 * which agent (if any) a commit belongs to; the main checkout has none.
 * It also records what setup changed, so teardown can undo exactly that.
 * Needs `--allow-read`, `--allow-write`, `--allow-run=git`.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { gitDir } from "../adapters/git_layout.ts";
import { statOrNull } from "../adapters/fs.ts";
import { CliFileRecord } from "./cli_file_record.ts";

import { MARKER_FILE } from "./marker_file.ts";

export { CURSOR_FILE, MARKER_FILE } from "./marker_file.ts";

/** The marker's schema. */
export const AgentMarker = z.object({
  version: z.literal(1),
  agent_id: z.string(),
  /** Branch the worktree must stay on (verbatim). */
  expected_branch: z.string(),
  broker_url: z.string().nullable(),
  strict_branch_guard: z.boolean(),
  /** RFC 3339 time of the (last) setup. */
  timestamp: z.string(),
  /** Repo root (main checkout). */
  repo: z.string(),
  /** How AGENTS.md was hidden from git, and whether git-paw created it. */
  agents_md: z.object({
    mode: z.enum(["skip-worktree", "exclude", "none"]),
    created: z.boolean(),
  }),
  /** Hook files (worktree-relative) hidden with skip-worktree, if hooks live in the worktree. */
  hook_paths: z.array(z.string()).default([]),
  /** Per-CLI files setup wrote or merged into (CLAUDE.md, local settings). */
  cli_files: z.array(CliFileRecord).default([]),
  /** The `~/.gemini/trustedFolders.json` entry setup added for this worktree. */
  gemini_trust: z.object({ file: z.string(), path: z.string() }).optional(),
});
/** A parsed marker. */
export type AgentMarker = z.infer<typeof AgentMarker>;

/** Absolute marker path for the worktree at `cwd`. */
async function markerPath(cwd: string): Promise<string> {
  return join(await gitDir(cwd), MARKER_FILE);
}

/** Parse marker text; null when it is not a valid marker. */
function parseMarker(text: string): AgentMarker | null {
  try {
    const r = AgentMarker.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** The marker of the worktree at `cwd`, or null (none, or unreadable). */
export async function readMarker(cwd: string): Promise<AgentMarker | null> {
  try {
    return await readMarkerFile(await markerPath(cwd));
  } catch {
    return null;
  }
}

/** The marker at `path` (`<git-dir>/paw-agent-id`), or null. */
export async function readMarkerFile(
  path: string,
): Promise<AgentMarker | null> {
  try {
    return parseMarker(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

/** Remove the marker of the worktree at `cwd` (no error when absent). */
export async function removeMarker(cwd: string): Promise<void> {
  try {
    await Deno.remove(await markerPath(cwd));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** True when any linked worktree of the repo still carries a marker. */
export async function anyMarker(commonDir: string): Promise<boolean> {
  try {
    for await (const ent of Deno.readDir(join(commonDir, "worktrees"))) {
      const marker = join(commonDir, "worktrees", ent.name, MARKER_FILE);
      if (await statOrNull(marker)) return true;
    }
  } catch {
    // no linked worktrees at all
  }
  return false;
}
