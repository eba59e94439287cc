/**
 * The supervisor's files in the repo root (docs/REFERENCE.md, "Supervisor
 * mode"): its instructions as the managed block of the root AGENTS.md,
 * the file its CLI reads (claude `CLAUDE.md` importing AGENTS.md, gemini
 * `GEMINI.md`, the local settings with git-paw's allow rules and hooks) —
 * written and hidden from git exactly as for an agent worktree (a user's
 * file is merged into and restored byte for byte) — and the supervisor's
 * state file `<git-dir>/paw-supervisor.json`: who the repo root's CLI is
 * (`agent_id` `supervisor`, the broker), and what setup wrote, so that
 * `stop` and `purge` take it all out again.
 *
 * The supervisor's identity comes from that one file: the CLI hooks of the
 * repo root read it (lib/adapters/cli_state.ts), and the supervisor pane's
 * environment is built from it (`supervisorIdentityEnv`).
 * Needs `--allow-read`, `--allow-write`, `--allow-run=git`.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import type { ApprovalsMode } from "../core/approval_hooks.ts";
import type { Config } from "../core/config.ts";
import { withHelper } from "../core/cli_profiles.ts";
import { SUPERVISOR_ID } from "../core/slug.ts";
import { gatesOf } from "../core/gates.ts";
import { gitCommonDir, gitDir, trackedPaths } from "../adapters/git_layout.ts";
import { readTextOrNull, writeTextAtomic } from "../adapters/fs.ts";
import { addSharedExcludes } from "./_exclude.ts";
import { CliFileRecord, restoreCliFile } from "./cli_files.ts";
import {
  setSkipWorktree,
  stripRepoAgentsMd,
  writeRepoAgentsBlock,
} from "./agents_md.ts";
import { agentHelper, type AgentSetup, writeCliFiles } from "./setup.ts";
import { agentPlan } from "../core/agent_plan.ts";

/** The supervisor's state file, in the main checkout's git dir. */
export const SUPERVISOR_STATE_FILE = "paw-supervisor.json";

/** The state file's schema. */
export const SupervisorState = z.object({
  version: z.literal(1),
  /** Always `supervisor` (reserved id). */
  agent_id: z.literal(SUPERVISOR_ID),
  session: z.string(),
  broker_url: z.string().nullable(),
  /** The supervisor's CLI name. */
  cli: z.string(),
  repo: z.string(),
  timestamp: z.string(),
  /** The per-CLI files setup wrote into the repo root. */
  cli_files: z.array(CliFileRecord).default([]),
  /**
   * The supervisor's key file (`<state dir>/supervisor-key`, owner-only):
   * what its CLI's hooks and helper calls send as `X-Git-Paw-Agent-Key`.
   */
  key_file: z.string().optional(),
});
/** A parsed state file. */
export type SupervisorState = z.infer<typeof SupervisorState>;

/** One agent as the supervisor's instructions list it. */
export type SupervisedAgent = {
  agentId: string;
  branch: string;
  cli: string;
  worktreePath: string;
};

/** What {@link renderSupervisorBlock} needs. Pure input. */
export type SupervisorBlockInput = {
  session: string;
  agents: SupervisedAgent[];
  config: Config;
  /** The session's approvals mode. */
  approvalsMode: ApprovalsMode;
};

/**
 * The supervisor's instructions (the managed block of the repo-root
 * AGENTS.md): who it is, the agents, the commands it uses, what the gates
 * do, its loop and its limits. Pure.
 */
export function renderSupervisorBlock(input: SupervisorBlockInput): string {
  const { gates } = gatesOf(input.config);
  const out: string[] = [
    "## git-paw Supervisor",
    "",
    `You are the **supervisor** of the git-paw session \`${input.session}\` (agent id \`${SUPERVISOR_ID}\`). You run in the repo root, the user's own checkout. You do not write the feature code: the coding agents below do, each on its own branch in its own worktree. Your job is to keep them moving, decide their permission requests, answer their questions and check their work.`,
    "",
    "### Agents",
    "",
  ];
  for (const a of input.agents) {
    out.push(
      `- \`${a.agentId}\` — branch \`${a.branch}\`, CLI ${a.cli}, worktree \`${a.worktreePath}\``,
    );
  }
  out.push(
    "",
    "### Commands",
    "",
    "- `git paw agents [--json]` — every agent: CLI, status, pane, worktree, last message, what it waits for.",
    "- `git paw tell <agent> <text>` — tell an agent something: typed into its CLI when it is idle, otherwise queued as `agent.feedback` (never typed into a pane waiting at a permission prompt).",
    "- `git paw approvals --pending --json` — the permission requests waiting for a decision (id, agent, tool, command or path).",
    "- `git paw approve ID` — let that request run.",
    "- `git paw deny ID --reason TEXT` — refuse it; the reason reaches the agent's model as the tool's answer.",
    "- `git paw publish verified <agent> [--message TEXT]` — record that you checked an agent's work.",
    "- `git paw publish feedback <agent> --error TEXT` — send problems back to an agent (repeat `--error`).",
    "- `git paw inbox [--wait 30]` — your messages: questions, `supervisor.verify-now` after each commit, learnings, conflict escalations.",
    "- `git paw publish status <status> --message TEXT --phase PHASE` — your own row on the dashboard.",
    "",
    "### Gates",
    "",
  );
  if (gates.length === 0) {
    out.push(
      "No gate command is configured (`[supervisor] test_command` and friends in `.git-paw/config.toml`): check each commit yourself when `supervisor.verify-now` arrives.",
    );
  } else {
    out.push(
      "git-paw itself runs these on every commit an agent reports, in a scratch worktree checked out at that commit, and publishes the result: `agent.verified` (verified by `git-paw-gate`) when all pass, `agent.feedback` to the agent with the failing output when one fails. Do not run them again yourself; read the results with `git paw agents`.",
      "",
    );
    for (const g of gates) out.push(`- \`${g.key}\`: \`${g.argv.join(" ")}\``);
  }
  out.push(
    "",
    "### Your loop",
    "",
    '1. First: `git paw publish status working --message "supervisor online" --phase baseline`.',
    "2. Then repeat: `git paw inbox --wait 30`; `git paw approvals --pending --json` and decide each request (approve what is safe and in the agent's task, deny the rest with a reason); `git paw agents --json`, and `git paw tell` an agent that is stuck, idle with work left, or has an unanswered question.",
    "3. When every agent is verified, say so with `git paw publish status done --message TEXT` and wait for the user.",
    "",
    "### Rules",
    "",
    `- Approvals run in \`${input.approvalsMode}\` mode: ${
      input.approvalsMode === "queue"
        ? "every request outside `[approvals]` waits for you (or the user) in the queue, and is denied after the timeout."
        : "the agents' CLIs ask in their own panes; the queue holds only what the hooks file."
    }`,
    "- Never push, never commit on an agent's branch, and merge only when the user asks you to.",
    "- Text the user types into your pane is a directive for you: act on it first.",
  );
  return out.join("\n");
}

/** What {@link setupSupervisorRoot} needs. */
export type SupervisorRootSetup = {
  repo: string;
  project: string;
  session: string;
  /** The supervisor's CLI name (and its argv[0], for a custom CLI). */
  cli: string;
  cliProgram?: string;
  brokerUrl: string | null;
  brokerAuth?: boolean;
  agents: SupervisedAgent[];
  config: Config;
  approvalsMode: ApprovalsMode;
  /** argv that runs git-paw from the hooks (default: `selfArgv()`). */
  hookSelf?: string[];
  /** The supervisor's key file (`supervisorKeyPath(stateDir)`). */
  keyFile?: string;
};

async function statePath(repo: string): Promise<string> {
  return join(await gitDir(repo), SUPERVISOR_STATE_FILE);
}

/** The repo root's supervisor state, or null (none, or unreadable). */
export async function readSupervisorState(
  repo: string,
): Promise<SupervisorState | null> {
  try {
    const text = await readTextOrNull(await statePath(repo));
    if (text === null) return null;
    const r = SupervisorState.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * The supervisor pane's own environment variables, from its state: its
 * identity (`GIT_PAW_AGENT_ID=supervisor`). The one place a per-agent
 * credential of the supervisor would be added.
 */
export function supervisorIdentityEnv(
  state: Pick<SupervisorState, "agent_id" | "key_file">,
): Record<string, string> {
  return {
    GIT_PAW_AGENT_ID: state.agent_id,
    // A path, never the key (the helper reads the file).
    ...(state.key_file ? { GIT_PAW_AGENT_KEY_FILE: state.key_file } : {}),
  };
}

/**
 * Write the supervisor's files into the repo root (idempotent: what an
 * earlier setup wrote is undone first): the AGENTS.md block, its CLI's
 * files, the state file. Returns the state.
 */
export async function setupSupervisorRoot(
  opts: SupervisorRootSetup,
): Promise<SupervisorState> {
  const repo = opts.repo;
  const [dir, commonDir] = await Promise.all([
    gitDir(repo),
    gitCommonDir(repo),
  ]);
  const previous = await readSupervisorState(repo);
  const setup: AgentSetup = {
    repo,
    project: opts.project,
    agent: agentPlan({
      branch: SUPERVISOR_ID,
      worktree: repo,
      cli: opts.cli,
      ...(opts.cliProgram ? { cliArgv: [opts.cliProgram] } : {}),
    }),
    brokerUrl: opts.brokerUrl,
    brokerAuth: opts.brokerAuth ?? false,
    peers: opts.agents.map((a) => a.agentId),
    config: opts.config,
    supervisor: true,
    approvalsMode: opts.approvalsMode,
    ...(opts.hookSelf ? { hookSelf: opts.hookSelf } : {}),
  };
  const profile = setup.agent.profile;
  let body = renderSupervisorBlock({
    session: opts.session,
    agents: opts.agents,
    config: opts.config,
    approvalsMode: opts.approvalsMode,
  });
  if (profile.absoluteHelper) {
    body = withHelper(body, agentHelper(setup, profile));
  }
  await writeRepoAgentsBlock(repo, body);
  // Undo the earlier setup's files (their skip-worktree bits too).
  for (const rec of previous?.cli_files ?? []) {
    if (rec.hidden === "skip-worktree") {
      await setSkipWorktree(repo, rec.path, false);
    }
  }
  const files = await writeCliFiles(
    setup,
    profile,
    { gitDir: dir, commonDir },
    previous?.cli_files ?? [],
  );
  const tracked = await trackedPaths(repo, files.map((f) => f.path));
  const records: CliFileRecord[] = files.map((f) => ({
    ...f,
    hidden: tracked.has(f.path) ? "skip-worktree" : "exclude",
  }));
  await setSkipWorktree(
    repo,
    records.filter((r) => r.hidden === "skip-worktree").map((r) => r.path),
    true,
  );
  const excluded = records.filter((r) => r.hidden === "exclude").map((r) =>
    `/${r.path}`
  );
  if (excluded.length) await addSharedExcludes(commonDir, excluded);
  const state: SupervisorState = {
    version: 1,
    agent_id: SUPERVISOR_ID,
    session: opts.session,
    broker_url: opts.brokerUrl,
    cli: opts.cli,
    repo,
    timestamp: new Date().toISOString(),
    cli_files: records,
    ...(opts.keyFile ? { key_file: opts.keyFile } : {}),
  };
  await writeTextAtomic(
    join(dir, SUPERVISOR_STATE_FILE),
    JSON.stringify(state, null, 2) + "\n",
    { mode: 0o600 },
  );
  return state;
}

/**
 * Undo {@link setupSupervisorRoot} (stop, purge): the user's files come
 * back as they were, git-paw's are removed, the AGENTS.md block stripped
 * and the state file deleted. No-op without a state file (a bare session).
 */
export async function teardownSupervisorRoot(repo: string): Promise<void> {
  const state = await readSupervisorState(repo);
  const path = await statePath(repo).catch(() => null);
  if (!state || !path) {
    if (path) await Deno.remove(path).catch(() => {});
    return;
  }
  for (const rec of [...state.cli_files].reverse()) {
    await restoreCliFile(repo, rec);
    if (rec.hidden === "skip-worktree") {
      await setSkipWorktree(repo, rec.path, false);
    }
  }
  await stripRepoAgentsMd(repo);
  await Deno.remove(path).catch(() => {});
}
