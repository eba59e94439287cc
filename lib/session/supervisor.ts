/**
 * Supervisor mode for the session commands (docs/REFERENCE.md,
 * "Supervisor mode"): whether a start is supervised, which CLI the
 * supervisor runs, its first prompt, its files in the repo root and its
 * pane. The layout is in lib/core/supervisor_layout.ts, the gates in
 * lib/coord/gate_plugin.ts, the repo-root files in
 * lib/coord/supervisor_root.ts.
 * @module
 */
import type { Config } from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import type { ApprovalsMode } from "../core/approval_hooks.ts";
import { SUPERVISOR_ID } from "../core/slug.ts";
import { brokerUrlOf, type Receipt } from "../core/session.ts";
import {
  setupSupervisorRoot,
  supervisorIdentityEnv,
  type SupervisorState,
} from "../coord/supervisor_root.ts";
import { slugify } from "../core/slug.ts";
import {
  supervisorCredential,
  supervisorKeyPath,
} from "../coord/credentials.ts";
import { brokerDataDir } from "./receipt.ts";
import { agentLaunch, cliResolver, receiptAgent } from "./common.ts";
import type { LaunchSupervisor } from "./launch.ts";

/**
 * Whether a fresh start is a supervisor session: `--supervisor` /
 * `--no-supervisor` win over `[supervisor] enabled`.
 */
export function supervisorWanted(
  flag: boolean | undefined,
  config: Config,
): boolean {
  return flag ?? config.supervisor.enabled;
}

/**
 * Refuse a supervisor session without the broker (the supervisor's
 * commands, its inbox and the gates all go through it).
 * @throws {AppError} `config`
 */
export function checkSupervisorBroker(brokerOn: boolean): void {
  if (!brokerOn) {
    throw new AppError(
      "Config error: supervisor mode needs the broker; drop --no-broker (or [broker] enabled = false), or start with --no-supervisor.",
      "config",
    );
  }
}

/**
 * The supervisor's CLI: `[supervisor] cli`, else the session's (`--cli`,
 * else the first agent's).
 */
export function supervisorCliName(
  config: Config,
  sessionCli: string | undefined,
  agentClis: readonly string[],
): string {
  const name = config.supervisor.cli?.trim() || sessionCli ||
    agentClis[0] || config.default_cli;
  if (!name) {
    throw new AppError(
      "Config error: no CLI for the supervisor. Set [supervisor] cli or pass --cli NAME.",
      "config",
    );
  }
  return name;
}

/** The supervisor's first prompt. */
export function supervisorPrompt(session: string): string {
  return [
    `You are the git-paw supervisor (agent id \`${SUPERVISOR_ID}\`) of session \`${session}\`.`,
    'Read the "git-paw Supervisor" section of AGENTS.md in this directory: it lists the agents, the commands you use (`git paw agents`, `git paw tell`, `git paw approvals`, `git paw approve`, `git paw deny`, `git paw publish verified|feedback`) and your loop.',
    'Start now: git paw publish status working --message "supervisor online" --phase baseline',
    "Then run your loop. Text the user types here is a directive for you.",
  ].join("\n");
}

/** What the session knows when it prepares the supervisor. */
export type SupervisorPlan = {
  repo: string;
  project: string;
  session: string;
  config: Config;
  cli: string;
  /** The supervisor CLI's argv (resolved). */
  cliArgv?: string[];
  brokerUrl: string | null;
  brokerAuth: boolean;
  approvalsMode: ApprovalsMode;
  worktrees: Receipt["worktrees"];
};

/** Write the supervisor's files into the repo root (setup, recovery). */
export async function prepareSupervisor(
  plan: SupervisorPlan,
): Promise<SupervisorState> {
  // Its key exists before its CLI (and the CLI's hooks) first speak.
  const stateDir = brokerDataDir(plan.session);
  await supervisorCredential(stateDir);
  return await setupSupervisorRoot({
    keyFile: supervisorKeyPath(stateDir),
    repo: plan.repo,
    project: plan.project,
    session: plan.session,
    cli: plan.cli,
    ...(plan.cliArgv?.[0] ? { cliProgram: plan.cliArgv[0] } : {}),
    brokerUrl: plan.brokerUrl,
    brokerAuth: plan.brokerAuth,
    agents: plan.worktrees.map((w) => ({
      agentId: slugify(w.branch),
      branch: w.branch,
      cli: w.cli,
      worktreePath: w.worktree_path,
    })),
    config: plan.config,
    approvalsMode: plan.approvalsMode,
  });
}

/**
 * The supervisor pane: its CLI with the first prompt placed by the CLI's
 * profile (null: no prompt, a restored pane), in the repo root, with the
 * identity its state gives.
 */
export function supervisorLaunch(
  plan: {
    repo: string;
    cli: string;
    cliArgv?: string[];
    config: Config;
    /** The session: its state dir holds the supervisor's key file. */
    session?: string;
  },
  prompt: Parameters<typeof agentLaunch>[1],
  resolve?: (name: string) => { argv: string[] },
): LaunchSupervisor {
  const agent = receiptAgent({
    branch: SUPERVISOR_ID,
    worktree_path: plan.repo,
    cli: plan.cli,
    ...(plan.cliArgv ? { cli_argv: plan.cliArgv } : {}),
  }, resolve ?? cliResolver(plan.config));
  return {
    ...agentLaunch(agent, prompt),
    env: supervisorIdentityEnv({
      agent_id: SUPERVISOR_ID,
      ...(plan.session
        ? { key_file: supervisorKeyPath(brokerDataDir(plan.session)) }
        : {}),
    }),
  };
}

/**
 * After `add` / `remove` in a supervisor session: the supervisor's
 * instructions list the agents the receipt has now. A failure is a warning.
 */
export async function refreshSupervisor(
  receipt: Receipt,
  config: Config,
  warn: (line: string) => void,
): Promise<void> {
  if (receipt.mode !== "supervisor" || !receipt.supervisor) return;
  await prepareSupervisor({
    repo: receipt.repo_path,
    project: receipt.project_name,
    session: receipt.session_name,
    config,
    cli: receipt.supervisor.cli,
    ...(receipt.supervisor.cli_argv
      ? { cliArgv: receipt.supervisor.cli_argv }
      : {}),
    brokerUrl: receipt.broker_port
      ? brokerUrlOf(receipt.broker_bind ?? "127.0.0.1", receipt.broker_port)
      : null,
    brokerAuth: receipt.broker_token !== undefined,
    approvalsMode: receipt.approvals_mode ?? "queue",
    worktrees: receipt.worktrees,
  }).catch((e) =>
    warn(
      `warning: the supervisor's instructions were not updated: ${
        (e as Error).message
      }`,
    )
  );
}
