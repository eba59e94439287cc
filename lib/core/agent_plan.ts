/**
 * One agent, computed once: branch → agent id, worktree path, CLI and its
 * profile. `start`, `add`, the worktree setup and the pane launch all take
 * this value instead of slugging the branch or looking the profile up again.
 * Pure.
 * @module
 */
import { dirname, join } from "node:path";
import { type CliProfile, profileFor } from "./cli_profiles.ts";
import type { ReceiptWorktree } from "./session.ts";
import { slugify, worktreeDirName } from "./slug.ts";

/** Where agent worktrees live. */
export type WorktreePlacement = "sibling" | "child";

/** Everything git-paw derives from an agent's branch and CLI choice. */
export type AgentPlan = {
  /** Branch, verbatim. */
  readonly branch: string;
  /** The agent's broker id: `slugify(branch)`. */
  readonly agentId: string;
  /** Absolute worktree path (the canonical one once the worktree exists). */
  readonly worktree: string;
  /** CLI as chosen (e.g. "claude", "demo"; may carry extra words). */
  readonly cli: string;
  /** The CLI's resolved argv, before any prompt is added. */
  readonly cliArgv: readonly string[];
  /** The CLI's profile (by its first word, else by argv[0]'s program name). */
  readonly profile: CliProfile;
};

/**
 * Where the worktree of `branch` goes. `sibling`: `<parent>/<project>-<branch>`
 * (docs/REFERENCE.md, "Worktrees and git"); `child`:
 * `<repo>/.git-paw/worktrees/<slug(branch)>`.
 *
 * @example
 * ```ts
 * import { worktreePathFor } from "./agent_plan.ts";
 * worktreePathFor("/src/proj", "proj", "feat/auth"); // "/src/proj-feat-auth"
 * ```
 */
export function worktreePathFor(
  repo: string,
  project: string,
  branch: string,
  placement: WorktreePlacement = "sibling",
): string {
  if (placement === "child") {
    return join(repo, ".git-paw", "worktrees", slugify(branch));
  }
  return join(dirname(repo), worktreeDirName(project, branch));
}

/** The profile of a CLI as chosen (`cli` may carry extra words). */
export function cliProfileOf(cli: string, argv0 = ""): CliProfile {
  return profileFor(cli.trim().split(/\s+/)[0] ?? "", argv0);
}

/** What an {@link AgentPlan} is built from. */
export type AgentPlanInput = {
  branch: string;
  worktree: string;
  cli: string;
  /** The CLI's resolved argv (empty when unknown: the profile goes by `cli`). */
  cliArgv?: readonly string[];
};

/**
 * The {@link AgentPlan} of an agent whose worktree path is known.
 *
 * @example
 * ```ts
 * import { agentPlan } from "./agent_plan.ts";
 * agentPlan({ branch: "feat/A", worktree: "/w", cli: "demo" }).agentId; // "feat-a"
 * ```
 */
export function agentPlan(input: AgentPlanInput): AgentPlan {
  const cliArgv = [...(input.cliArgv ?? [])];
  return {
    branch: input.branch,
    agentId: slugify(input.branch),
    worktree: input.worktree,
    cli: input.cli,
    cliArgv,
    profile: cliProfileOf(input.cli, cliArgv[0] ?? ""),
  };
}

/** Where a new agent's worktree is planned: the repo and its layout. */
export type NewAgentOptions = {
  repo: string;
  project: string;
  placement?: WorktreePlacement;
  cli: string;
  cliArgv?: readonly string[];
};

/** The {@link AgentPlan} of a new agent: its worktree path is planned here. */
export function planAgent(branch: string, opts: NewAgentOptions): AgentPlan {
  return agentPlan({
    branch,
    worktree: worktreePathFor(opts.repo, opts.project, branch, opts.placement),
    cli: opts.cli,
    ...(opts.cliArgv ? { cliArgv: opts.cliArgv } : {}),
  });
}

/**
 * The {@link AgentPlan} of an agent a session receipt lists, with the CLI
 * argv given (default: the one the receipt recorded).
 */
export function receiptPlan(
  w: Pick<ReceiptWorktree, "branch" | "worktree_path" | "cli" | "cli_argv">,
  cliArgv: readonly string[] = w.cli_argv ?? [],
): AgentPlan {
  return agentPlan({
    branch: w.branch,
    worktree: w.worktree_path,
    cli: w.cli,
    cliArgv,
  });
}

/** The same plan at the worktree git actually made (canonical or reused). */
export function atWorktree(plan: AgentPlan, worktree: string): AgentPlan {
  return worktree === plan.worktree ? plan : { ...plan, worktree };
}

/** The agent ids of `plans` other than `plan`'s own. */
export function peersOf(
  plan: AgentPlan,
  plans: readonly AgentPlan[],
): string[] {
  return plans.map((p) => p.agentId).filter((id) => id !== plan.agentId);
}
