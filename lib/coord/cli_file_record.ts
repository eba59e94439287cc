/**
 * The record of what setup did to one per-CLI file, kept in the agent
 * marker (lib/coord/marker.ts). Its own module so that reading a marker
 * (every `git paw publish`) loads the schema alone, not the file planning
 * of lib/coord/cli_files.ts (TOML, hashing, the CLI profiles).
 * @module
 */
import { z } from "zod";

/** What setup did to one per-CLI file (kept in the agent marker). */
export const CliFileRecord = z.object({
  /** Worktree-relative path. */
  path: z.string(),
  kind: z.enum(["import", "json", "toml", "own"]),
  /** git-paw created the file (teardown deletes it). */
  created: z.boolean(),
  /** Directories (worktree-relative) git-paw created for it, deepest last. */
  created_dirs: z.array(z.string()).default([]),
  /** How it is kept out of `git status`. */
  hidden: z.enum(["exclude", "skip-worktree"]),
  /** JSON: what was added ({@link JsonPatch}). */
  patch: z.unknown().optional(),
  /** The user's original bytes (a file in the git dir), when there were any. */
  backup: z.string().optional(),
  /**
   * SHA-256 (hex) of the text git-paw wrote, to tell whether anyone changed
   * it since (the text itself may hold the user's secrets: not kept here).
   */
  written_sha256: z.string(),
  /** Import files: the line that imports AGENTS.md. */
  line: z.string().optional(),
});
/** What setup did to one per-CLI file. */
export type CliFileRecord = z.infer<typeof CliFileRecord>;
