/**
 * `git paw start` (docs/REFERENCE.md, "Command line", "Session state"): fresh launch, reattach, restart
 * after pause, or recovery of a stopped/crashed session — never a forced
 * purge. Every choice is validated before any side effect; a failed fresh
 * launch removes what it created.
 * @module
 */
import { trace } from "../trace.ts";
import { basename, join } from "node:path";
import { existsSync } from "../adapters/fs.ts";
import { gitTry } from "../adapters/git_run.ts";
import { AppError, UsageError } from "../core/errors.ts";
import {
  brokerUrlOf,
  decideStart,
  MAX_AGENTS,
  type Receipt,
  type ReceiptWorktree,
} from "../core/session.ts";
import {
  reservedBranchProblem,
  sessionBaseName,
  slugify,
} from "../core/slug.ts";
import type { Config } from "../core/config.ts";
import {
  type CreatedWorktree,
  createWorktree,
  createWorktrees,
  currentBranch,
  deleteBranch,
  ensureExcluded,
  listBranches,
  validateBranchName,
} from "../adapters/git.ts";
import {
  type AgentPlan,
  atWorktree,
  peersOf,
  planAgent,
  receiptPlan,
} from "../core/agent_plan.ts";
import {
  hasSession,
  killSession,
  listPanes,
  requireTmux,
  sendLiteral,
  tmuxTry,
} from "../adapters/tmux.ts";
import { eprintln, println, stdinIsTty } from "../output.ts";
import { resolveCli } from "./clis.ts";
import {
  agentKeyFiles,
  agentLaunch,
  attachOrHint,
  attachWindowSize,
  bootPrompt,
  chooseBrokerPort,
  cliResolver,
  nowIso,
  receiptAgent,
  receiptBrokerUrl,
  repoContext,
  syncDiscovery,
} from "./common.ts";
import {
  brokerDataDir,
  findReceiptForRepo,
  readReceipt,
  receiptPath,
  receiptsDir,
  removeReceipts,
  writeReceipt,
} from "./receipt.ts";
import { acquireLock } from "./lock.ts";
import { generateToken, isLoopback } from "../broker/token.ts";
import {
  addAgentPane,
  addDashboardPane,
  addSupervisorPane,
  buildSession,
  type DashboardLaunch,
  ensureLayout,
  launchDashboard,
  type LaunchPlan,
} from "./launch.ts";
import {
  setupAgentWorktrees,
  stripRepoAgentsBlock,
  teardownAgentWorktree,
} from "../coord/setup.ts";
import {
  bootstrapTarget,
  bootstrapWorktrees,
  includedIgnoredFiles,
} from "./bootstrap.ts";
import { assignReceiptPorts, releasePorts, reservePorts } from "./ports.ts";
import { resolveApprovalsMode } from "../core/approval_hooks.ts";
import { SUPERVISOR_ROLE } from "./layout.ts";
import {
  checkSupervisorBroker,
  prepareSupervisor,
  supervisorCliName,
  supervisorLaunch,
  supervisorPrompt,
  supervisorWanted,
} from "./supervisor.ts";
import type { SpecBackend } from "../core/specs.ts";
import {
  type AgentSpec,
  chooseSpecAgents,
  publishSpecIntents,
  specModeOf,
  specSetupOf,
} from "./spec_launch.ts";

/** Flags of `git paw start`. */
export type StartOptions = {
  cli?: string;
  branches?: string[];
  preset?: string;
  dryRun?: boolean;
  /** false with `--no-broker`. */
  broker?: boolean;
  /** false with `--no-rebase`. */
  rebase?: boolean;
  /** Never attach (benchmarks, scripts); the hint is printed instead. */
  noAttach?: boolean;
  /** `--from-all-specs`: one agent per pending spec. */
  fromAllSpecs?: boolean;
  /** `--specs a,b`; bare `--specs` (`true`) picks on a terminal. */
  specs?: string[] | true;
  /** `--specs-format`: read the specs in this format. */
  specsFormat?: SpecBackend;
  /** `--supervisor` (true) / `--no-supervisor` (false); wins over `[supervisor] enabled`. */
  supervisor?: boolean;
  /**
   * `--unattended`: no person needed — approvals in the queue (unless the
   * config says otherwise), and instead of attaching, the drive loop of
   * lib/session/unattended.ts runs until the end and prints a summary.
   */
  unattended?: boolean;
  /** `--max-minutes N`: the unattended run's time budget. */
  maxMinutes?: number;
  /** `--stop-when-done`: stop the session when every agent finished. */
  stopWhenDone?: boolean;
  /** `--json`: the unattended summary as JSON. */
  json?: boolean;
  /** Unix seconds the command began (an unattended run reports from it). */
  startedAt?: number;
};

/** One agent chosen for a fresh launch. */
type Choice = { branch: string; cli: string; spec?: AgentSpec };

/** Run `git paw start`. */
export async function startCommand(opts: StartOptions): Promise<void> {
  trace("start: command");
  // An unattended run reports from here on.
  opts = { ...opts, startedAt: opts.startedAt ?? Date.now() / 1000 };
  // Both checks at once; a missing repo is reported before a missing tmux.
  const [ctxR, tmuxR] = await Promise.allSettled([
    repoContext(),
    requireTmux(),
  ]);
  if (ctxR.status === "rejected") throw ctxR.reason;
  if (tmuxR.status === "rejected") throw tmuxR.reason;
  const ctx = ctxR.value;
  trace("start: repo, config, tmux");
  let existing = await findReceiptForRepo(ctx.repo);
  trace("start: receipt lookup");
  // A receipt without agents is the name reservation of a start that is
  // running (or died before creating anything): freshStart sorts it out
  // under the lock.
  if (existing && existing.worktrees.length === 0) existing = null;
  if (existing && !opts.dryRun) {
    const live = await hasSession(existing.session_name);
    if (
      live === "alive" &&
      !await sessionBelongsTo(existing.session_name, ctx.repo)
    ) {
      // Same name, another repo's session (another data dir, a hand-made
      // session): never reattach to it, never touch it.
      throw sessionConflict(existing.session_name, ctx.repo);
    }
    const d = decideStart(existing, live === "alive");
    if (
      opts.cli || opts.branches || opts.preset || specModeOf(opts) ||
      opts.supervisor !== undefined
    ) {
      eprintln(
        `notice: session '${existing.session_name}' already exists; --cli/--branches/--preset/--specs/--supervisor are ignored. Use \`git paw add\`/\`git paw remove\`, or \`git paw purge\` first.`,
      );
    }
    switch (d.kind) {
      case "reattach":
        eprintln(`Reattaching to session '${existing.session_name}'...`);
        await restoreMissingPanes(ctx.repo, ctx.config, existing);
        return await finish(existing.session_name, opts);
      case "restart-paused":
        eprintln(
          `Restarting paused session '${existing.session_name}' (broker + reattach)...`,
        );
        await restartPaused(ctx.repo, ctx.config, existing);
        return await finish(existing.session_name, opts);
      case "recover":
        eprintln(`Recovering session '${existing.session_name}'...`);
        await recoverSession(ctx.repo, ctx.config, existing, opts);
        return await finish(existing.session_name, opts);
      case "fresh":
        break;
    }
  }
  if (existing && opts.dryRun) {
    eprintln(
      `warning: session '${existing.session_name}' already exists for this repo; \`git paw start\` will resume it (purge it before starting a new one).`,
    );
  }
  await freshStart(ctx.repo, ctx.config, opts);
}

async function finish(session: string, opts: StartOptions): Promise<void> {
  if (opts.unattended) {
    const receipt = await readReceipt(session);
    if (!receipt) {
      throw new AppError(`Session error: no receipt for '${session}'`);
    }
    const [{ runUnattended }, { loadConfig }] = await Promise.all([
      import("./unattended.ts"),
      import("./config_store.ts"),
    ]);
    await runUnattended(receipt, {
      config: await loadConfig(receipt.repo_path, { onWarning: () => {} }),
      maxMinutes: opts.maxMinutes,
      json: opts.json,
      stopWhenDone: opts.stopWhenDone,
      startedAt: opts.startedAt,
    });
    return;
  }
  if (opts.noAttach) {
    println(`Session '${session}' started in detached mode.`);
    println(`Attach with:  tmux attach -t ${session}`);
    return;
  }
  await attachOrHint(session);
}

/**
 * The agents of a fresh launch: from specs when a spec flag is given (null:
 * none pending), else from branches.
 */
async function planAgents(
  repo: string,
  config: Config,
  opts: StartOptions,
  resolve: (name: string) => unknown,
): Promise<Choice[] | null> {
  const mode = specModeOf(opts);
  if (!mode) return await chooseAgents(repo, config, opts, resolve);
  return await chooseSpecAgents(repo, config, {
    mode,
    format: opts.specsFormat,
    cli: opts.cli,
    resolve,
  });
}

/** Decide branches and CLIs from flags, preset, config and (TTY) pickers. */
async function chooseAgents(
  repo: string,
  config: Config,
  opts: StartOptions,
  resolve: (name: string) => unknown = (name) => resolveCli(name, config),
): Promise<Choice[]> {
  let branches = opts.branches;
  let cli = opts.cli;
  if (opts.preset !== undefined) {
    const p = config.presets[opts.preset];
    if (!p) {
      const names = Object.keys(config.presets);
      throw new AppError(
        `Config error: preset '${opts.preset}' not found${
          names.length ? ` (presets: ${names.join(", ")})` : ""
        }. Define [presets.${opts.preset}] in .git-paw/config.toml.`,
        "config",
      );
    }
    branches ??= p.branches;
    cli ??= p.cli;
  }
  const tty = stdinIsTty();
  if (!branches || branches.length === 0) {
    if (!tty) {
      throw new UsageError(
        "Branch error: no branches given. Pass --branches a,b (or --preset NAME).",
      );
    }
    const { pickBranches } = await import("./pickers.ts");
    // The branch of the user's own checkout cannot get an agent worktree.
    const mine = await currentBranch(repo);
    branches = await pickBranches(
      (await listBranches(repo)).filter((b) => b !== mine),
    );
  }
  branches = [...new Set(branches.map((b) => b.trim()).filter((b) => b))];
  if (branches.length === 0) {
    throw new UsageError(
      "Branch error: no branches given. Pass --branches a,b.",
    );
  }
  if (branches.length > MAX_AGENTS) {
    throw new AppError(
      `Config error: ${branches.length} agents requested; maximum is ${MAX_AGENTS} per session. Split the work into several sessions (one per repo clone).`,
      "config",
    );
  }
  await Promise.all(branches.map((b) => validateBranchName(b, repo)));
  const bySlug = new Map<string, string>();
  for (const b of branches) {
    const reserved = reservedBranchProblem(b);
    if (reserved) throw new UsageError(reserved);
    const other = bySlug.get(slugify(b));
    if (other !== undefined) {
      throw new UsageError(
        `Branch error: '${other}' and '${b}' would share the agent id '${
          slugify(b)
        }'; pick one of them.`,
      );
    }
    bySlug.set(slugify(b), b);
  }
  let clis: string[];
  if (cli) clis = branches.map(() => cli!);
  else if (tty) {
    const { pickClis } = await import("./pickers.ts");
    clis = await pickClis(branches, config);
  } else if (config.default_cli) clis = branches.map(() => config.default_cli!);
  else {
    throw new UsageError(
      "No CLI given. Pass --cli NAME (see `git paw list-clis`; `--cli demo` runs the built-in demo agent).",
    );
  }
  for (const c of new Set(clis)) {
    try {
      resolve(c);
    } catch (e) {
      if (e instanceof AppError) {
        throw new AppError(e.message, e.code, { exitCode: 1, cause: e });
      }
      throw e;
    }
  }
  return branches.map((b, i) => ({ branch: b, cli: clis[i]! }));
}

/** `paw-<project>`, then `-2` … `-11` (docs/REFERENCE.md, "tmux layout"). */
function sessionNameCandidates(project: string): string[] {
  const base = sessionBaseName(project);
  return [base, ...Array.from({ length: 10 }, (_, i) => `${base}-${i + 2}`)];
}

function tooManyCollisions(project: string): AppError {
  return new AppError(
    `Tmux error: too many session name collisions for '${
      sessionBaseName(project)
    }'`,
    "tmux",
  );
}

/**
 * `paw-<project>`, or `-2`… when that name is taken by a running session or
 * by the receipt of another repo.
 */
async function pickSessionName(project: string, repo: string): Promise<string> {
  for (const name of sessionNameCandidates(project)) {
    let r: Receipt | null = null;
    try {
      r = await readReceipt(name);
    } catch {
      continue; // a corrupt receipt of some session: keep away from it
    }
    if (r && r.repo_path !== repo) continue;
    if (await hasSession(name) === "alive") continue;
    return name;
  }
  throw tooManyCollisions(project);
}

/**
 * Claim a session name for `repo` atomically: the receipt file is created
 * exclusively (a placeholder with no agents), so two repos with the same
 * project name starting at once never share a name or overwrite each
 * other's receipt.
 */
async function reserveSessionName(
  project: string,
  repo: string,
): Promise<string> {
  await Deno.mkdir(receiptsDir(), { recursive: true });
  for (const name of sessionNameCandidates(project)) {
    if (await hasSession(name) === "alive") continue;
    const placeholder: Receipt = {
      session_name: name,
      repo_path: repo,
      project_name: project,
      created_at: nowIso(),
      status: "active",
      worktrees: [],
      mode: "bare",
    };
    try {
      await Deno.writeTextFile(
        receiptPath(name),
        JSON.stringify(placeholder, null, 2) + "\n",
        { createNew: true },
      );
      return name;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw e;
    }
  }
  throw tooManyCollisions(project);
}

async function freshStart(
  repo: string,
  config: Config,
  opts: StartOptions,
): Promise<void> {
  const project = basename(repo);
  const resolve = cliResolver(config);
  const choices = await planAgents(repo, config, opts, resolve);
  if (choices === null) {
    println("No pending specs found.");
    return;
  }
  trace("start: agents chosen");
  const brokerOn = (opts.broker ?? true) && config.broker.enabled;
  const supervised = supervisorWanted(opts.supervisor, config);
  if (supervised) checkSupervisorBroker(brokerOn);
  const supCli = supervised
    ? supervisorCliName(config, opts.cli, choices.map((c) => c.cli))
    : null;
  if (supCli) resolve(supCli);
  if (opts.unattended && !brokerOn) {
    throw new UsageError(
      "--unattended needs the broker (drop --no-broker, or set [broker] enabled = true)",
    );
  }
  const approvalsMode = resolveApprovalsMode(config.approvals.mode, {
    unattended: opts.unattended ?? false,
    supervisor: supervised,
  });
  const planned = choices.map((c) => ({
    ...c,
    agent: planAgent(c.branch, {
      repo,
      project,
      placement: config.worktree_placement,
      cli: c.cli,
      cliArgv: resolve(c.cli).argv,
    }),
  }));

  if (opts.dryRun) {
    const session = await pickSessionName(project, repo);
    println(
      specModeOf(opts)
        ? "Dry run — session plan (from specs):"
        : "Dry run — session plan:",
    );
    println(`Session: ${session}`);
    println(`Mouse:   ${config.mouse ? "on" : "off"}`);
    println(
      `Broker:  ${
        brokerOn
          ? brokerUrlOf(config.broker.bind, config.broker.port) +
            " (or a free port if taken)"
          : "off"
      }`,
    );
    if (supCli) println(`Supervisor: ${supCli} (${repo})`);
    if (opts.unattended) {
      println(
        `Unattended: yes (approvals: ${approvalsMode}, budget ${
          opts.maxMinutes ?? 60
        } min)`,
      );
    }
    for (const p of planned) {
      println(`  ${p.branch} → ${p.cli} (${p.agent.worktree})`);
      if (!p.spec) continue;
      println(`      spec: ${p.spec.id}`);
      if (p.spec.owned_files.length) {
        println(`      owns: ${p.spec.owned_files.join(", ")}`);
      }
    }
    return;
  }

  await using _lock = await acquireLock(repo, { command: "start" });
  // Another start may have won the race while we waited for the lock.
  const raced = await findReceiptForRepo(repo);
  if (raced && raced.worktrees.length === 0) {
    // We hold the lock, so no start is running: a dead start's reservation.
    await removeReceipts(repo, raced.session_name);
  } else if (raced) {
    throw new AppError(
      `Session error: session '${raced.session_name}' was just created by another command. Run \`git paw start\` again to attach.`,
      "session_exists",
    );
  }
  trace("start: lock");
  const session = await reserveSessionName(project, repo);
  trace("start: session name");
  const t0 = performance.now();
  let created: CreatedWorktree[] = [];
  let dashboard: DashboardLaunch | undefined;
  const rollback = async () => {
    await killSession(session);
    if (dashboard) {
      // Pane 0 ran this session's broker for a moment: drop its files too.
      await Deno.remove(brokerDataDir(session), { recursive: true }).catch(
        () => {},
      );
    }
    for (const c of created) {
      if (c.reused) {
        await teardownAgentWorktree({ repo, worktreePath: c.path }).catch(
          () => {},
        );
        continue;
      }
      await gitTry(repo, [
        "worktree",
        "remove",
        "--force",
        "--force",
        "--",
        c.path,
      ]);
      if (c.branch_created) await deleteBranch(repo, c.branch).catch(() => {});
    }
    await removeReceipts(repo, session).catch(() => {});
    await releasePorts({ session });
    // The supervisor's files in the repo root, when they were written.
    if (supCli) await stripRepoAgentsBlock(repo).catch(() => {});
  };
  let port: number | null = null;
  let url: string | null = null;
  // Beyond loopback the broker wants a bearer token; every pane gets it.
  const token = brokerOn && !isLoopback(config.broker.bind)
    ? generateToken()
    : undefined;
  try {
    port = brokerOn
      ? await chooseBrokerPort(
        config.broker.bind,
        config.broker.port,
        session,
        undefined,
        repo,
      )
      : null;
    url = port ? brokerUrlOf(config.broker.bind, port) : null;
    trace("start: broker port");
    // The window is made at the attaching terminal's size (pane 0 makes it).
    const windowSize = await attachWindowSize();
    // Pane 0 first, alongside the worktrees: its broker boots while they
    // are made, and takes the agents on from the receipt once it lists them.
    const launching = url
      ? launchDashboard({
        session,
        repo,
        windowSize,
        brokerUrl: url,
        brokerBind: config.broker.bind,
        brokerToken: token,
      }).then((d) => {
        dashboard = d;
        trace("start: dashboard launched");
      })
      : Promise.resolve();
    // Each agent's dev ports, reserved machine-wide while worktrees are made.
    const porting = reservePorts({
      session,
      repo,
      branches: planned.map((p) => p.branch),
      count: config.worktree.ports,
    });
    porting.catch(() => {}); // awaited below
    // The main checkout's files to copy, listed meanwhile too.
    const selecting = includedIgnoredFiles(repo, config.worktree.copy);
    selecting.catch(() => {}); // awaited below
    const creating = createWorktrees(
      repo,
      planned.map((p) => ({
        branch: p.branch,
        path: p.agent.worktree,
        rebase: opts.rebase ?? true,
      })),
      {
        onProgress: (e) => {
          if (e.kind === "start") {
            eprintln(`Creating worktree for ${e.branch}...`);
          }
          if (e.kind === "failed") {
            eprintln(`  ...${e.branch} failed: ${e.error.message}`);
          }
          if (e.kind === "done" && e.result.rebase.status === "failed") {
            eprintln(
              `warning: ${e.branch} was not rebased onto ${e.result.rebase.onto}: ${e.result.rebase.detail}`,
            );
          }
        },
      },
    );
    // Both settled before any rollback, so the rollback sees pane 0 too.
    const [made, launched] = await Promise.allSettled([creating, launching]);
    if (made.status === "fulfilled") created = made.value;
    if (made.status === "rejected") throw made.reason;
    if (launched.status === "rejected") throw launched.reason;
    const agents: AgentPlan[] = created.map((c, i) =>
      atWorktree(planned[i]!.agent, c.path)
    );
    const worktrees: ReceiptWorktree[] = created.map((c, i) => ({
      branch: c.branch,
      worktree_path: c.path,
      cli: planned[i]!.cli,
      branch_created: c.branch_created,
      cli_argv: [...agents[i]!.cliArgv],
      ...(planned[i]!.spec ? { spec: planned[i]!.spec } : {}),
    }));
    trace("start: worktrees made");
    const ports = await porting;
    trace("start: ports");
    for (const w of worktrees) {
      const b = ports.get(w.branch);
      if (b) w.ports = b;
    }
    // Runnable worktrees: ignored files copied in, then [worktree] setup,
    // in the new ones only, before any agent CLI starts.
    await bootstrapWorktrees(
      repo,
      agents.flatMap((a, i) =>
        created[i]!.reused ? [] : [bootstrapTarget(a, worktrees[i]!.ports)]
      ),
      { config, session, files: selecting },
    );
    trace("start: worktree bootstrap");
    const supervisorPlan = supCli
      ? {
        repo,
        project,
        session,
        config,
        cli: supCli,
        cliArgv: resolve(supCli).argv,
        brokerAuth: token !== undefined,
        approvalsMode: resolveApprovalsMode(config.approvals.mode, {
          supervisor: true,
        }),
        worktrees,
      }
      : null;
    // One batch: shared files (hooks, excludes) are written once for all.
    const setupAll = (brokerUrl: string | null) =>
      setupAgentWorktrees(agents.map((agent, i) => ({
        repo,
        project,
        agent,
        brokerUrl,
        brokerAuth: token !== undefined,
        ...(token ? { brokerToken: token } : {}),
        peers: peersOf(agent, agents),
        config,
        supervisor: supervised,
        approvalsMode,
        ...specSetupOf(worktrees[i]!),
      }))).then(async () => {
        // The supervisor's instructions and CLI files in the repo root.
        if (supervisorPlan) {
          await prepareSupervisor({ ...supervisorPlan, brokerUrl });
        }
      });
    // The boot block's curl recipes name each agent's key file.
    const keyFiles = await agentKeyFiles(agents.map((a) => a.worktree));
    const launches = (brokerUrl: string | null) =>
      agents.map((agent, i) =>
        agentLaunch(
          agent,
          bootPrompt(
            agent,
            brokerUrl,
            token !== undefined,
            keyFiles.get(agent.worktree),
          ),
          worktrees[i]!.ports,
        )
      );
    trace("start: worktrees");
    const receipt: Receipt = {
      session_name: session,
      repo_path: repo,
      project_name: project,
      created_at: nowIso(),
      status: "active",
      worktrees,
      mode: supervised ? "supervisor" : "bare",
      approvals_mode: approvalsMode,
      ...(supCli
        ? { supervisor: { cli: supCli, cli_argv: resolve(supCli).argv } }
        : {}),
      ...(port
        ? {
          broker_port: port,
          broker_bind: config.broker.bind,
          ...(token ? { broker_token: token } : {}),
          broker_log_path: join(
            brokerDataDir(session),
            `${session}.broker.log`,
          ),
          dashboard_pane: 0,
        }
        : {}),
    };
    // The receipt lists the agents: it opens their guards' gates.
    const publish = async () => {
      await writeReceipt(receipt);
      // git-paw's own state in the repo never shows up in `git status`.
      await ensureExcluded(repo, [
        "/.git-paw/sessions/",
        "/.git-paw/session.lock",
      ])
        .catch(() => {});
      await syncDiscovery(receipt, { askTmux: false });
      trace("start: receipt + discovery");
    };
    // The agents' files; each agent's guard holds its CLI until the
    // receipt lists it. Without a broker the agent panes' tmux command
    // starts first (setup is CPU work that would hold up writing the panes'
    // files) and the receipt follows setup. With the broker, setup (it runs
    // git for the hooks) comes first, as the panes' guards take the CPU
    // once they open; the panes open while pane 0 binds its port, and the
    // receipt is written as soon as tmux has opened them (the guards type
    // their boot prompts then, not while tmux opens them): the CLIs boot
    // while pane 0 binds. Nothing of theirs reaches the broker in that
    // time (a CLI's first hook or helper comes a second later); should
    // the port move, the worktree files and the receipt name the new URL
    // before the panes are started again.
    let panesOpening = () => {};
    const opening = url
      ? Promise.resolve()
      : new Promise<void>((res) => panesOpening = res);
    const preparing = (async () => {
      await opening;
      await setupAll(url);
      trace("start: worktree setup");
      if (!url) await publish();
    })();
    const building = (url ? preparing : Promise.resolve()).then(() =>
      buildSession({
        session,
        repo,
        brokerUrl: url,
        brokerBind: config.broker.bind,
        brokerToken: token,
        agents: launches(url),
        windowSize,
        mouse: config.mouse,
        borderAffordances: config.layout.border_affordances,
        logging: config.logging.enabled,
        launchGate: receiptPath(session),
        openBeforeBroker: true,
        onAgentsOpened: url ? publish : undefined,
        onOpeningAgents: () => panesOpening(),
        ...(supervisorPlan
          ? {
            supervisor: supervisorLaunch(
              supervisorPlan,
              supervisorPrompt(session),
              resolve,
            ),
          }
          : {}),
      }, async (taken) => {
        // The agent panes are open (their CLIs may run on the old URL):
        // let the first setup finish, redo it for the new URL, then say so
        // in the receipt before the panes are started again.
        await preparing;
        port = await chooseBrokerPort(config.broker.bind, 0, session);
        const moved = brokerUrlOf(config.broker.bind, port);
        eprintln(
          `notice: ${taken} is served by another session or program; this session's broker moves to ${moved}`,
        );
        receipt.broker_port = port;
        await setupAll(moved);
        await publish();
        return {
          url: moved,
          agents: launches(moved),
        };
      }, dashboard)
    );
    // A build that failed before opening the panes: setup runs anyway.
    building.then(panesOpening, panesOpening);
    const [prepared, builtR] = await Promise.allSettled([preparing, building]);
    if (prepared.status === "rejected") throw prepared.reason;
    if (builtR.status === "rejected") throw builtR.reason;
    const built = builtR.value;
    url = built.brokerUrl ?? url;
    // pane 0 holds the port the agents were given; the receipt naming it
    // was written when the panes opened (or when the port moved).
    trace("start: tmux session built");
    // The broker is up: spec agents claim their owned files right away.
    if (url) await publishSpecIntents(url, token, worktrees);
  } catch (e) {
    await rollback();
    throw e;
  }
  eprintln(
    `${supCli ? "Supervisor session" : "Started session"} '${session}'${
      supCli ? " launched" : ""
    } with ${created.length} ${supCli ? "coding " : ""}agent(s) in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    }s${url ? ` (broker ${url})` : ""}.`,
  );
  if (url) {
    eprintln(
      `Web dashboard: ${url}/${
        token ? `?token=${encodeURIComponent(token)}` : ""
      }`,
    );
    if (config.broker.learnings.enabled || config.supervisor.learnings) {
      eprintln(
        `Learnings are on: they are written locally to ${
          join(repo, ".git-paw", "session-learnings.md")
        } and nothing is sent anywhere.`,
      );
    }
  }
  await _lock.release();
  trace("start: lock released");
  // Built: nothing rolls the session back from here (a failed attach
  // leaves it running and says how to attach).
  await finish(session, opts);
  trace("start: done");
}

function sessionConflict(session: string, repo: string): AppError {
  return new AppError(
    `Session error: a tmux session named '${session}' is running but was not started for ${repo}. Stop it (tmux kill-session -t ${session}) and run \`git paw start\` again.`,
    "session_conflict",
  );
}

/** Is a running tmux session named `session` ours (started for `repo`)? */
async function sessionBelongsTo(
  session: string,
  repo: string,
): Promise<boolean> {
  const r = await tmuxTry([
    "show-environment",
    "-t",
    `=${session}`,
    "GIT_PAW_REPO",
  ]);
  return r.code === 0 && r.stdout.trim() === `GIT_PAW_REPO=${repo}`;
}

/**
 * Rebuild a stopped or crashed session from its receipt: same worktrees
 * (recreated from their branch if deleted), branches, CLIs and broker port
 * (another port only if that one is now taken). No rebase. Each CLI
 * resumes its conversation where its profile allows (else it gets the boot
 * prompt again); prompts still pending from a paused `add` are sent as is.
 */
async function recoverSession(
  repo: string,
  config: Config,
  receipt: Receipt,
  opts: Pick<StartOptions, "broker"> = {},
): Promise<void> {
  // Every CLI must still be launchable before anything changes.
  const resolve = cliResolver(config);
  for (const w of receipt.worktrees) receiptAgent(w, resolve);
  await using _lock = await acquireLock(repo, { command: "start (recover)" });
  const session = receipt.session_name;
  if (await hasSession(session) === "alive") {
    if (!await sessionBelongsTo(session, repo)) {
      throw sessionConflict(session, repo);
    }
    await killSession(session);
  }
  const recreated: ReceiptWorktree[] = [];
  for (const w of receipt.worktrees) {
    if (!existsSync(w.worktree_path)) {
      recreated.push(w);
      eprintln(`Recreating worktree for ${w.branch} at ${w.worktree_path}...`);
      const c = await createWorktree(repo, {
        branch: w.branch,
        path: w.worktree_path,
        rebase: false,
      });
      w.worktree_path = c.path;
      w.branch_created ||= c.branch_created;
    }
  }
  // The ports the receipt records stay (stable across recovery); a
  // recreated worktree is a new one: made runnable again.
  await assignReceiptPorts(receipt, config.worktree.ports);
  await bootstrapWorktrees(
    repo,
    recreated.map((w) => bootstrapTarget(receiptPlan(w), w.ports)),
    {
      config,
      session,
    },
  );
  let port = receipt.broker_port ?? null;
  if (port && opts.broker !== false) {
    const bind = receipt.broker_bind ?? config.broker.bind;
    port = await chooseBrokerPort(
      bind,
      port,
      session,
      receipt.broker_token,
      repo,
    );
    receipt.broker_port = port;
    receipt.broker_bind = bind;
  } else if (opts.broker === false) {
    port = null;
  }
  const url = port ? brokerUrlOf(receipt.broker_bind!, port) : null;
  if (url && !receipt.broker_token && !isLoopback(receipt.broker_bind!)) {
    receipt.broker_token = generateToken();
  }
  // Planned once the worktrees stand where they are (recreated or not).
  const plans = receipt.worktrees.map((w) => receiptAgent(w, resolve));
  const setupAll = (brokerUrl: string | null) =>
    setupAgentWorktrees(plans.map((agent, i) => ({
      repo,
      project: receipt.project_name,
      agent,
      brokerUrl,
      brokerAuth: receipt.broker_token !== undefined,
      ...(receipt.broker_token ? { brokerToken: receipt.broker_token } : {}),
      peers: peersOf(agent, plans),
      config,
      supervisor: receipt.mode === "supervisor",
      ...specSetupOf(receipt.worktrees[i]!),
    }))).then(async () => {
      if (sup) await prepareSupervisor({ ...sup, brokerUrl });
    });
  // A supervisor session: the supervisor's files and pane come back too.
  const sup = receipt.mode === "supervisor" && receipt.supervisor
    ? {
      repo,
      project: receipt.project_name,
      session,
      config,
      cli: receipt.supervisor.cli,
      ...(receipt.supervisor.cli_argv
        ? { cliArgv: receipt.supervisor.cli_argv }
        : {}),
      brokerAuth: receipt.broker_token !== undefined,
      approvalsMode: receipt.approvals_mode ?? "queue",
      worktrees: receipt.worktrees,
    }
    : null;
  await setupAll(url);
  // Each CLI resumes its last conversation with a short "restarted" prompt;
  // one that cannot resume gets the boot prompt again; an agent added while
  // paused never started, so it gets its pending boot prompt.
  const pending = new Map(
    receipt.worktrees.map((w) => [w, w.pending_boot_prompt]),
  );
  const keyFiles = await agentKeyFiles(
    receipt.worktrees.map((w) => w.worktree_path),
  );
  const launches = (brokerUrl: string | null) =>
    receipt.worktrees.map((w, i) =>
      agentLaunch(
        plans[i]!,
        pending.get(w) ?? {
          resume: true,
          bootPrompt: bootPrompt(
            plans[i]!,
            brokerUrl,
            receipt.broker_token !== undefined,
            keyFiles.get(w.worktree_path),
          ),
        },
        w.ports,
      )
    );
  const agents = launches(url);
  for (const w of receipt.worktrees) delete w.pending_boot_prompt;
  receipt.status = "active";
  await writeReceipt(receipt);
  await buildSession({
    session,
    repo,
    windowSize: await attachWindowSize(),
    brokerUrl: url,
    brokerBind: receipt.broker_bind,
    brokerToken: receipt.broker_token,
    agents,
    mouse: config.mouse,
    borderAffordances: config.layout.border_affordances,
    logging: config.logging.enabled,
    ...(sup && url
      ? {
        supervisor: supervisorLaunch(sup, {
          resume: true,
          bootPrompt: supervisorPrompt(session),
        }),
      }
      : {}),
  }, async (taken) => {
    const bind = receipt.broker_bind ?? config.broker.bind;
    const moved = brokerUrlOf(bind, await chooseBrokerPort(bind, 0, session));
    eprintln(
      `notice: ${taken} is served by another session or program; this session's broker moves to ${moved}`,
    );
    receipt.broker_port = Number(new URL(moved).port);
    await writeReceipt(receipt);
    await setupAll(moved);
    return { url: moved, agents: launches(moved) };
  });
  await syncDiscovery(receipt);
}

/** What adding a pane to the running session of `receipt` needs. */
function receiptPanePlan(
  repo: string,
  config: Config,
  receipt: Receipt,
): Omit<LaunchPlan, "agents"> {
  return {
    session: receipt.session_name,
    repo,
    brokerUrl: receiptBrokerUrl(receipt),
    brokerBind: receipt.broker_bind ?? config.broker.bind,
    brokerToken: receipt.broker_token,
    mouse: config.mouse,
    borderAffordances: config.layout.border_affordances,
    logging: config.logging.enabled,
  };
}

/**
 * Active + alive, but panes were closed (dashboard quit with `q`, an agent
 * pane closed after its CLI ended): bring them back, without boot prompts.
 */
async function restoreMissingPanes(
  repo: string,
  config: Config,
  receipt: Receipt,
): Promise<void> {
  const url = receiptBrokerUrl(receipt);
  const panes = await listPanes(receipt.session_name);
  const dash = panes.find((p) => p.role === "dashboard");
  const needDashboard = url !== null && !dash;
  if (dash) {
    const { healState, restartStopped } = await import("./heal.ts");
    if ((await healState(dash.id))?.stopped) {
      // tmux stopped restarting it after a crash loop: start it over.
      eprintln("Restarting the dashboard and broker pane...");
      await restartStopped(dash.id);
    }
  }
  const missing = receipt.worktrees.filter((w) =>
    !panes.some((p) => p.agent === slugify(w.branch))
  );
  const needSupervisor = url !== null && receipt.mode === "supervisor" &&
    receipt.supervisor !== undefined &&
    !panes.some((p) => p.role === SUPERVISOR_ROLE);
  if (!needDashboard && missing.length === 0 && !needSupervisor) {
    return await ensureLayout(receipt.session_name, panes);
  }
  await using _lock = await acquireLock(repo, { command: "start (restore)" });
  const plan = receiptPanePlan(repo, config, receipt);
  if (needDashboard) {
    eprintln("Restarting the dashboard and broker pane...");
    await addDashboardPane(plan);
  }
  const resolve = cliResolver(config);
  for (const w of missing) {
    eprintln(`Restarting the pane of ${w.branch}...`);
    await addAgentPane(
      plan,
      agentLaunch(receiptAgent(w, resolve), null, w.ports),
    );
  }
  if (needSupervisor) {
    eprintln("Restarting the supervisor pane...");
    await addSupervisorPane(
      plan,
      supervisorLaunch({
        repo,
        config,
        session: receipt.session_name,
        ...receipt.supervisor!,
      }, null),
    );
  }
  await syncDiscovery(receipt);
}

/** Paused + alive: bring the dashboard/broker back and submit pending prompts. */
async function restartPaused(
  repo: string,
  config: Config,
  receipt: Receipt,
): Promise<void> {
  await using _lock = await acquireLock(repo, { command: "start (resume)" });
  const session = receipt.session_name;
  const url = receiptBrokerUrl(receipt);
  const panes = await listPanes(session);
  if (url && !panes.some((p) => p.role === "dashboard")) {
    await addDashboardPane(receiptPanePlan(repo, config, receipt));
  }
  for (const w of receipt.worktrees) {
    if (!w.pending_boot_prompt) continue;
    const pane = panes.find((p) => p.agent === slugify(w.branch));
    if (pane) await sendLiteral(pane.id, w.pending_boot_prompt);
    delete w.pending_boot_prompt;
  }
  receipt.status = "active";
  await writeReceipt(receipt);
  await syncDiscovery(receipt);
}
