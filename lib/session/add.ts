/**
 * `git paw add <branch> [--cli]` / `git paw add --from-spec NAME`: one more agent in the running (or paused)
 * session: worktree, AGENTS.md/hooks, a titled pane, receipt + discovery
 * update, best-effort `POST /watch`. While paused its boot prompt waits for
 * `git paw start`.
 * @module
 */
import { AppError, UsageError } from "../core/errors.ts";
import {
  effectiveStatus,
  MAX_AGENTS,
  type ReceiptWorktree,
} from "../core/session.ts";
import { reservedBranchProblem } from "../core/slug.ts";
import { atWorktree, planAgent, receiptPlan } from "../core/agent_plan.ts";
import { createWorktree, validateBranchName } from "../adapters/git.ts";
import { hasSession, requireTmux } from "../adapters/tmux.ts";
import { eprintln, println } from "../output.ts";
import { resolveCli } from "./clis.ts";
import {
  agentKeyFiles,
  agentLaunch,
  bootPrompt,
  receiptBrokerUrl,
  repoContext,
  syncDiscovery,
} from "./common.ts";
import { findReceiptForRepo, writeReceipt } from "./receipt.ts";
import { acquireLock } from "./lock.ts";
import { addAgentPane } from "./launch.ts";
import { setupAgentWorktree } from "../coord/setup.ts";
import { bootstrapTarget, bootstrapWorktrees } from "./bootstrap.ts";
import { releasePorts, reservePorts } from "./ports.ts";
import {
  type AgentSpec,
  agentSpecOf,
  publishSpecIntents,
  specForAdd,
  specSetupOf,
} from "./spec_launch.ts";

/** Options of {@link addCommand}. */
export type AddOptions = {
  cli?: string;
  /** `--from-spec NAME`: the branch, spec and CLI come from this spec. */
  fromSpec?: string;
};

/** Run `git paw add` (`branch` is required unless `opts.fromSpec`). */
export async function addCommand(
  branchArg: string | undefined,
  opts: AddOptions,
): Promise<void> {
  const { repo, project, config } = await repoContext();
  await requireTmux();
  const fromSpec = opts.fromSpec === undefined
    ? null
    : await specForAdd(repo, config, opts.fromSpec);
  const branch = fromSpec?.branch ?? branchArg;
  if (branch === undefined) {
    throw new UsageError("Branch error: pass <branch> or --from-spec NAME.");
  }
  const spec: AgentSpec | undefined = fromSpec
    ? agentSpecOf(fromSpec)
    : undefined;
  const receipt = await findReceiptForRepo(repo);
  if (!receipt) {
    throw new AppError(
      "Session error: no active session for this repository. Start one with `git paw start`.",
      "no_session",
    );
  }
  const s = receipt.session_name;
  const eff = effectiveStatus(receipt.status, await hasSession(s));
  if (eff === "stopped") {
    throw new AppError(
      `Session error: session '${s}' is not running. Run \`git paw start\` to recover it, then add the branch.`,
      "session_stopped",
    );
  }
  await validateBranchName(branch, repo);
  const reserved = reservedBranchProblem(branch);
  if (reserved) throw new UsageError(reserved);
  const cli = opts.cli ?? fromSpec?.cli ??
    (fromSpec && config.default_spec_cli) ??
    receipt.worktrees[0]?.cli ?? config.default_cli;
  if (!cli) {
    throw new UsageError("No CLI given. Pass --cli NAME.");
  }
  const entry = resolveCli(cli, config);
  let agent = planAgent(branch, {
    repo,
    project,
    placement: config.worktree_placement,
    cli,
    cliArgv: entry.argv,
  });
  const id = agent.agentId;
  const peers = receipt.worktrees.map((w) => receiptPlan(w));
  const dup = peers.find((p) => p.agentId === id);
  if (dup) {
    throw new UsageError(
      dup.branch === branch
        ? `Branch error: '${branch}' is already in session '${s}'.`
        : `Branch error: '${branch}' would share the agent id '${id}' with '${dup.branch}'.`,
    );
  }
  if (receipt.worktrees.length + 1 > MAX_AGENTS) {
    throw new AppError(
      `Config error: ${
        receipt.worktrees.length + 1
      } agents requested; maximum is ${MAX_AGENTS} per session.`,
      "config",
    );
  }

  await using _lock = await acquireLock(repo, { command: "add" });
  // The agent's dev ports first: a full range fails before anything is made.
  const block = (await reservePorts({
    session: s,
    repo,
    branches: [branch],
    count: config.worktree.ports,
  })).get(branch);
  eprintln(`Creating worktree for ${branch}...`);
  const c = await createWorktree(repo, {
    branch,
    path: agent.worktree,
    rebase: false,
  }).catch(async (e) => {
    await releasePorts({ session: s, branch });
    throw e;
  });
  agent = atWorktree(agent, c.path);
  const url = receiptBrokerUrl(receipt);
  const w: ReceiptWorktree = {
    branch,
    worktree_path: c.path,
    cli,
    branch_created: c.branch_created,
    cli_argv: entry.argv,
    ...(spec ? { spec } : {}),
  };
  if (block) w.ports = block;
  // A new worktree is made runnable (ignored files, setup) before its CLI.
  if (!c.reused) {
    await bootstrapWorktrees(repo, [bootstrapTarget(agent, block)], {
      config,
      session: s,
    });
  }
  await setupAgentWorktree({
    repo,
    project,
    agent,
    brokerUrl: url,
    brokerAuth: receipt.broker_token !== undefined,
    ...(receipt.broker_token ? { brokerToken: receipt.broker_token } : {}),
    peers: peers.map((p) => p.agentId),
    config,
    supervisor: receipt.mode === "supervisor",
    ...(receipt.approvals_mode
      ? { approvalsMode: receipt.approvals_mode }
      : {}),
    ...specSetupOf(w),
  });
  const paused = eff === "paused";
  const keyFile = (await agentKeyFiles([c.path])).get(c.path);
  const prompt = bootPrompt(
    agent,
    url,
    receipt.broker_token !== undefined,
    keyFile,
  );
  if (paused && prompt) w.pending_boot_prompt = prompt;
  const { index } = await addAgentPane({
    session: s,
    repo,
    brokerUrl: url,
    brokerToken: receipt.broker_token,
    mouse: config.mouse,
    borderAffordances: config.layout.border_affordances,
    logging: config.logging.enabled,
  }, agentLaunch(agent, paused ? null : prompt, block));
  receipt.worktrees.push(w);
  await writeReceipt(receipt);
  await syncDiscovery(receipt);
  // The supervisor's instructions list the new agent too.
  await (await import("./supervisor.ts")).refreshSupervisor(
    receipt,
    config,
    eprintln,
  );
  if (url && !paused) {
    try {
      const { brokerClient } = await import("../broker/client.ts");
      const { readAgentKey } = await import("../coord/credentials.ts");
      const { gitDir } = await import("../adapters/git_layout.ts");
      const key = (await readAgentKey(await gitDir(c.path)))?.key;
      await brokerClient(url, {
        token: receipt.broker_token,
        ...(key ? { agentKey: key } : {}),
      }).watch({
        agent_id: id,
        worktree_path: agent.worktree,
        cli,
      });
    } catch { /* best effort: the dashboard seeds it on next start */ }
  }
  if (url && !paused) {
    await publishSpecIntents(url, receipt.broker_token, [w]);
  }
  println(`Added '${branch}' to session '${s}' (pane ${index}).`);
}
