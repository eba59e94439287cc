/**
 * Per-worktree preparation for an agent (issue "Coordination" owns this file):
 * AGENTS.md managed block, git hooks and the per-worktree agent marker.
 * Placeholder bodies until that issue lands; signatures are the contract the
 * session code calls.
 * @module
 */
import type { Config } from "../core/config.ts";

/** What the session knows about one agent when preparing its worktree. */
export type AgentSetup = {
  /** Repo root (main checkout). */
  repo: string;
  /** Project name (basename of the repo root). */
  project: string;
  /** Absolute worktree path. */
  worktreePath: string;
  /** Branch, verbatim. */
  branch: string;
  /** slugify(branch). */
  agentId: string;
  /** CLI name as chosen (e.g. "claude", "demo"). */
  cli: string;
  /** Broker URL, or null when the broker is off. */
  brokerUrl: string | null;
  /** Agent ids of the other agents in the session. */
  peers: string[];
  config: Config;
};

/** Write AGENTS.md block, hooks and marker for one agent worktree. */
export async function setupAgentWorktree(_opts: AgentSetup): Promise<void> {}

/** Undo {@link setupAgentWorktree} for a worktree that stays on disk. */
export async function teardownAgentWorktree(
  _opts: { repo: string; worktreePath: string },
): Promise<void> {}

/** Strip the git-paw block from the repo-root AGENTS.md (stop/purge). */
export async function stripRepoAgentsBlock(_repo: string): Promise<void> {}

/** Remove git-paw's hook blocks from the repo's hooks dir (purge). */
export async function removeSessionHooks(_repo: string): Promise<void> {}
