/**
 * Builds a session's tmux layout (docs/REFERENCE.md, "tmux layout"): pane 0 = dashboard
 * (when the broker is on), one titled pane per agent in its worktree running
 * its CLI through the `__agent-pane` guard. Commands are batched into a few
 * tmux invocations (`;`-separated argv); every argument is protected from
 * tmux's command splitting and every user-derived text that tmux expands as a
 * format is escaped. Options are session/window/pane scoped only.
 *
 * Needs `--allow-run=tmux`, `--allow-env`.
 * @module
 */
import { dirname, join } from "node:path";
import { AppError } from "../core/errors.ts";
import {
  escapeTmuxFormat,
  killSession,
  listPanes,
  paneArgs,
  type PaneInfo,
  type PaneSpec,
  sessionTarget,
  tmuxBatch,
  tmuxText,
  tmuxTry,
} from "../adapters/tmux.ts";
import { selfArgv } from "../adapters/self.ts";
import { readTextOrNull } from "../adapters/fs.ts";
import { eprintln } from "../output.ts";
import { trace } from "../trace.ts";
import {
  paneLogPath,
  pipePaneCommand,
  preparePaneLogDir,
} from "../dashboard/pane_log.ts";
import { brokerDataDir } from "./receipt.ts";
import { layoutCmds, SUPERVISOR_ROLE, windowLayoutCmds } from "./layout.ts";
import { SUPERVISOR_ID } from "../core/slug.ts";
import { type PortBlock, portEnv } from "../core/ports.ts";
import type { AgentPlan } from "../core/agent_plan.ts";
import {
  agentPaneEnvName,
  gitIdentityEnv,
  PANE_ENV_FILE_ENV,
  paneEnvPath,
  writePaneEnv,
} from "./pane_env.ts";
import { hooksDir } from "../coord/hooks.ts";
import { healCmds } from "./heal.ts";

/** One agent pane to create. */
export type LaunchAgent = {
  /** The agent: branch, id, worktree, CLI and its profile. */
  agent: AgentPlan;
  /** Full CLI argv, including any first-prompt arguments. */
  argv: string[];
  /** Text typed into the pane (no Enter) after launch, if any. */
  typePrompt?: string;
  /** The agent's dev ports: `PORT` and `GIT_PAW_PORTS` in its pane. */
  ports?: PortBlock;
};

/**
 * The supervisor pane of a supervisor session: its CLI in the repo root
 * (lib/session/supervisor.ts builds it).
 */
export type LaunchSupervisor = LaunchAgent & {
  /**
   * The pane's own variables on top of the session's (its identity:
   * `GIT_PAW_AGENT_ID=supervisor`, from `supervisorIdentityEnv`).
   */
  env: Record<string, string>;
};

/** Everything needed to build (or extend) a session. */
export type LaunchPlan = {
  session: string;
  repo: string;
  /** Broker URL, or null when the broker is off (no dashboard pane). */
  brokerUrl: string | null;
  /** Address the broker binds (given to pane 0 with the URL's port). */
  brokerBind?: string;
  /** Bearer token of a broker bound beyond loopback (every pane's env). */
  brokerToken?: string;
  agents: LaunchAgent[];
  mouse: boolean;
  borderAffordances: boolean;
  /** Pipe each agent pane into its log file. */
  logging: boolean;
  /**
   * The session receipt `start` is still writing: each agent's guard holds
   * its CLI until this file lists the agent's worktree (its AGENTS.md,
   * hooks and marker are ready by then), so the panes can open meanwhile.
   */
  launchGate?: string;
  /** Supervisor session: the supervisor pane (needs the broker). */
  supervisor?: LaunchSupervisor;
  /**
   * With the broker: open the agent panes while pane 0 binds its port,
   * not after. When the session moves to another port the panes are
   * started again with the new one: a CLI already started on the old URL
   * is ended by that restart (its worktree files name the new URL first).
   */
  openBeforeBroker?: boolean;
  /**
   * Called once tmux has opened the agent panes (with
   * {@link openBeforeBroker}: before pane 0's port is confirmed). `start` writes the receipt
   * then, which opens the panes' gates: the CLIs boot while pane 0 binds.
   */
  onAgentsOpened?: () => Promise<void>;
  /**
   * Called once the agent panes' files are written, right before the tmux
   * command that opens the panes (a caller holds CPU-heavy work until
   * then, so it does not delay them).
   */
  onOpeningAgents?: () => void;
  /**
   * The window's size from the start: the size of the terminal that will
   * attach ({@link attachWindowSize}), so attaching resizes no pane. Default
   * 480×140 (tmux shrinks it to the first client).
   */
  windowSize?: WindowSize | null;
};

/** A tmux window size in cells. */
export type WindowSize = { width: number; height: number };

/** Environment variables handed to every pane so a long-running tmux server started elsewhere still runs panes like this invocation. */
const PASSTHROUGH_ENV = [
  "PATH",
  "HOME",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "GIT_PAW_SELF",
  "NO_COLOR",
];

/**
 * What tmux is told (`-e`, visible in argv): no secrets. The rest of the
 * launching environment, and the bearer token, reach the pane through its
 * owner-only env file (lib/session/pane_env.ts), named here.
 */
function baseEnv(
  plan: { session: string; repo: string; brokerUrl: string | null },
  envFile: string,
) {
  const env: Record<string, string> = {};
  for (const k of PASSTHROUGH_ENV) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  env.GIT_PAW_SESSION = plan.session;
  // With the name, what tells this session's processes (end_processes.ts).
  env.GIT_PAW_REPO = plan.repo;
  if (plan.brokerUrl) env.GIT_PAW_BROKER_URL = plan.brokerUrl;
  env[PANE_ENV_FILE_ENV] = envFile;
  return env;
}

/** The session's own variables for a pane's env file. */
function sessionVars(
  plan: { session: string; brokerUrl: string | null; brokerToken?: string },
): Record<string, string> {
  const vars: Record<string, string> = { GIT_PAW_SESSION: plan.session };
  if (plan.brokerUrl) vars.GIT_PAW_BROKER_URL = plan.brokerUrl;
  if (plan.brokerUrl && plan.brokerToken) {
    vars.GIT_PAW_BROKER_TOKEN = plan.brokerToken;
  }
  return vars;
}

const DASHBOARD_ENV = "dashboard";
const agentEnvName = (a: LaunchAgent) => agentPaneEnvName(a.agent.agentId);

/** Write pane 0's env file (the token travels there, not in argv). */
async function writeDashboardEnv(
  plan: { session: string; brokerToken?: string },
  url: string,
): Promise<void> {
  await writePaneEnv(
    plan.session,
    DASHBOARD_ENV,
    sessionVars({ ...plan, brokerUrl: url }),
  );
}

/**
 * The argv of the pane-0 dashboard process; with `broker` it is told the
 * port and address to serve (else it reads them from the receipt) and the
 * file where it reports the port bound ({@link waitForDashboard}).
 */
function dashboardArgv(
  session: string,
  repo: string,
  broker?: { url: string | null; bind?: string; readyFile?: string },
): string[] {
  const argv = [
    ...selfArgv(),
    "__dashboard",
    "--session",
    session,
    "--repo",
    repo,
  ];
  const port = broker?.url ? new URL(broker.url).port : "";
  if (broker?.bind && port) argv.push("--port", port, "--bind", broker.bind);
  if (broker?.readyFile) argv.push("--ready-file", broker.readyFile);
  return argv;
}

/** The pane-0 command of `plan` served at `url`. */
function dashboardCmd(
  plan: Pick<LaunchPlan, "session" | "repo" | "brokerBind" | "brokerToken">,
  url: string,
  readyFile?: string,
): PaneCmd {
  return {
    cwd: plan.repo,
    env: baseEnv(
      { session: plan.session, repo: plan.repo, brokerUrl: url },
      paneEnvPath(plan.session, DASHBOARD_ENV),
    ),
    argv: dashboardArgv(plan.session, plan.repo, {
      url,
      bind: plan.brokerBind,
      readyFile,
    }),
  };
}

/** The argv of an agent pane: the guard wrapping the CLI. */
function agentPaneArgv(agent: LaunchAgent): string[] {
  return [
    ...selfArgv(),
    "__agent-pane",
    "--cli",
    agent.agent.cli,
    "--cwd",
    agent.agent.worktree,
    "--",
    ...agent.argv,
  ];
}

type PaneCmd = PaneSpec;

function paneOpts(p: PaneCmd): string[] {
  if (p.argv.length < 2) {
    // A single-element command would go through `sh -c`; never allow that.
    throw new Error("internal: pane command must have at least 2 elements");
  }
  return [...paneArgs(p), "--", ...p.argv];
}

function paneDecor(
  pane: string,
  title: string,
  role: string,
  agentId: string,
): string[][] {
  return [
    ["select-pane", "-t", pane, "-T", escapeTmuxFormat(title)],
    ["set-option", "-p", "-t", pane, "@paw_role", role],
    ["set-option", "-p", "-t", pane, "@paw_agent", agentId],
  ];
}

function agentCmd(
  plan: {
    session: string;
    repo: string;
    brokerUrl: string | null;
    brokerToken?: string;
    launchGate?: string;
  },
  a: LaunchAgent,
  bootFile?: string,
): PaneCmd {
  const env: Record<string, string> = {
    ...baseEnv(plan, paneEnvPath(plan.session, agentEnvName(a))),
    GIT_PAW_AGENT_ID: a.agent.agentId,
  };
  if (plan.launchGate) env.GIT_PAW_LAUNCH_GATE = plan.launchGate;
  if (a.ports) Object.assign(env, portEnv(a.ports));
  // The guard types the prompt into its own pane once the CLI runs.
  if (bootFile) env.GIT_PAW_BOOT_FILE = bootFile;
  return {
    cwd: a.agent.worktree,
    env,
    argv: agentPaneArgv(a),
  };
}

/**
 * Called when the port in `plan.brokerUrl` turned out to be served by another
 * session's broker or another program: pick a new port, record it (receipt,
 * worktree setup) and return the new URL with the agents to launch against it.
 */
export type BrokerRelocator = (
  takenUrl: string,
) => Promise<{ url: string; agents: LaunchAgent[] }>;

/** How long {@link buildSession} waits for pane 0 to bind the broker's port. */
const BROKER_CONFIRM_MS = 10_000;

/** Pane 0 as launched, with the file it reports its port in. */
export type DashboardLaunch = { pane: string; readyFile: string };

/**
 * Wait for pane 0's report in `readyFile` (then remove it): "ours" when the
 * dashboard process itself bound the port (a bind is proof no one else
 * holds it; the broker answers on it moments later and holds early
 * requests), "taken" when another session or program holds the port,
 * "failed" when it could not listen for another reason, "timeout" when no
 * report came (pane 0 failed to start). The pane shows why.
 */
export async function waitForDashboard(
  readyFile: string,
  timeoutMs = BROKER_CONFIRM_MS,
): Promise<"ours" | "taken" | "failed" | "timeout"> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const text = await readTextOrNull(readyFile);
    if (text !== null) {
      await Deno.remove(readyFile).catch(() => {});
      let status: unknown;
      try {
        status = (JSON.parse(text) as { status?: unknown }).status;
      } catch { /* garbled: treat as no report */ }
      if (status === "listening") return "ours";
      if (status === "taken") return "taken";
      if (status === "failed") return "failed";
      return "timeout";
    }
    // A missing file costs a syscall: poll tightly while pane 0 boots
    // (~30 ms to bind), then back off.
    const delay = Date.now() - started < 2000 ? 5 : 100;
    await new Promise((res) => setTimeout(res, delay));
  }
  return "timeout";
}

function newReadyFile(session: string): string {
  return join(brokerDataDir(session), `ready-${crypto.randomUUID()}.json`);
}

/** What {@link buildSession} created. */
export type BuiltSession = {
  dashboardPane: string | null;
  /** Pane id per agent, in plan order. */
  agentPanes: string[];
  /** The broker URL the agents were given (confirmed when the broker is on). */
  brokerUrl?: string | null;
  /** The supervisor pane of a supervisor session. */
  supervisorPane?: string;
};

/**
 * Create the tmux session for `plan` (it must not exist yet). On failure the
 * half-built session is killed before the error propagates.
 */
export async function buildSession(
  plan: LaunchPlan,
  relocate?: BrokerRelocator,
  dashboard?: DashboardLaunch,
): Promise<BuiltSession> {
  if (plan.brokerUrl) {
    try {
      return await buildWithConfirmedBroker(plan, relocate, dashboard);
    } catch (e) {
      await killSession(plan.session).catch(() => {});
      throw e;
    }
  }
  return await buildAll(plan);
}

/**
 * Create the session with pane 0 only: the dashboard serving the broker at
 * `plan.brokerUrl`. `start` calls this before making the worktrees so the
 * broker boots meanwhile; {@link buildSession} then adds the agents.
 */
export async function launchDashboard(
  plan: Pick<
    LaunchPlan,
    | "session"
    | "repo"
    | "brokerUrl"
    | "brokerBind"
    | "brokerToken"
    | "windowSize"
  >,
): Promise<DashboardLaunch> {
  const sess = sessionTarget(plan.session);
  const url = plan.brokerUrl;
  if (!url) throw new Error("internal: launchDashboard needs a broker URL");
  const readyFile = newReadyFile(plan.session);
  await Deno.mkdir(dirname(readyFile), { recursive: true });
  await writeDashboardEnv(plan, url);
  const [dashPane] = await tmuxBatch([
    newSessionCmd(
      plan.session,
      dashboardCmd(plan, url, readyFile),
      plan.windowSize,
    ),
    ...paneDecor(`${sess}:`, "dashboard", "dashboard", ""),
    // tmux restarts it after a crash (heal.ts).
    ...healCmds(`${sess}:`),
    ["set-environment", "-t", sess, "GIT_PAW_REPO", plan.repo],
    ["set-environment", "-t", sess, "GIT_PAW_BROKER_URL", url],
  ]);
  if (!dashPane) {
    throw new AppError(
      "Tmux error: tmux did not report the dashboard pane",
      "tmux",
    );
  }
  return { pane: dashPane, readyFile };
}

/**
 * Pane 0 first (unless `dashboard` already runs it); wait until it has bound
 * the broker's port (moving to another port when someone else holds it);
 * only then the agent panes, so every agent gets a URL served by this
 * session's broker and no agent ever talks to another session's server.
 */
async function buildWithConfirmedBroker(
  plan: LaunchPlan,
  relocate?: BrokerRelocator,
  dashboard?: DashboardLaunch,
): Promise<BuiltSession> {
  const sess = sessionTarget(plan.session);
  let url = plan.brokerUrl!;
  let agents = plan.agents;
  const dash = dashboard ?? await launchDashboard(plan);
  let readyFile = dash.readyFile;
  // The agents' gates hold their CLIs: their panes open meanwhile.
  const openAgents = () =>
    splitAgents({ ...plan, brokerUrl: url, agents }).then(async (o) => {
      await plan.onAgentsOpened?.();
      return o;
    });
  let opening = plan.openBeforeBroker ? openAgents() : null;
  opening?.catch(() => {}); // awaited below
  try {
    for (let attempt = 0;; attempt++) {
      const r = await waitForDashboard(readyFile);
      trace(`launch: broker port ${r}`);
      if (r === "ours") break;
      if (r === "failed") {
        throw new AppError(
          `Broker error: the dashboard pane could not listen on ${url}; check [broker] bind and port in .git-paw/config.toml`,
          "broker_bind_failed",
        );
      }
      if (r === "timeout" && await unclaimedOrOurs(plan, url)) {
        // Nothing else holds the port: pane 0 is only slow (it binds it, or
        // shows why not).
        eprintln(
          `warning: the dashboard pane did not start the broker at ${url} for session '${plan.session}' within ${
            BROKER_CONFIRM_MS / 1000
          }s; see the dashboard pane`,
        );
        break;
      }
      if (!relocate || attempt >= 4) {
        throw new AppError(
          `Broker error: ${url} is served by another session or program; set [broker] port in .git-paw/config.toml`,
          "broker_port",
        );
      }
      // The held panes are open (or failed) before anything moves.
      const opened = opening ? await opening : null;
      const moved = await relocate(url);
      url = moved.url;
      agents = moved.agents;
      readyFile = newReadyFile(plan.session);
      await writeDashboardEnv(plan, url);
      await tmuxBatch([
        [
          "respawn-pane",
          "-k",
          "-t",
          dash.pane,
          ...paneOpts(dashboardCmd(plan, url, readyFile)),
        ],
        ["set-environment", "-t", sess, "GIT_PAW_BROKER_URL", url],
      ]);
      if (opened) {
        opening = respawnAgents({ ...plan, brokerUrl: url, agents }, opened);
      }
    }
  } catch (e) {
    // Never leave a batch running into the caller's kill-session.
    await opening?.catch(() => {});
    throw e;
  }
  const ids = (await (opening ?? openAgents())).panes;
  let supervisorPane: string | undefined;
  if (plan.supervisor) {
    supervisorPane = await addSupervisorPane(
      { ...plan, brokerUrl: url },
      plan.supervisor,
    );
  }
  return {
    dashboardPane: dash.pane,
    agentPanes: ids,
    brokerUrl: url,
    ...(supervisorPane ? { supervisorPane } : {}),
  };
}

/**
 * After pane 0 sent no report: true when nobody answers on `url` yet, or
 * this very session's broker (same name, same repo) does; anything else
 * there (a broker of another repo whatever its session's name, another
 * program, a silent holder) means the agents must not get `url`.
 */
async function unclaimedOrOurs(
  plan: Pick<LaunchPlan, "session" | "repo" | "brokerToken">,
  url: string,
): Promise<boolean> {
  const { probeBroker } = await import("../broker/probe.ts");
  const probe = await probeBroker(url, plan.session, {
    token: plan.brokerToken,
    repo: plan.repo,
  }).catch(() => "timeout" as const);
  return probe === "free" || probe === "ours";
}

/** Make room, then split a new pane running `p` off the session's active pane. */
function splitCmds(target: string, p: PaneCmd): string[][] {
  return [
    ["select-layout", "-t", target, "tiled"],
    ["split-window", "-t", target, "-P", "-F", "#{pane_id}", ...paneOpts(p)],
  ];
}

/**
 * After the panes: mouse, border affordances and the layout (kept by tmux
 * from then on, see layout.ts), all window-scoped; and the server's
 * `focus-events` on, so CLIs that ask for focus reports get them (Claude
 * Code prints a tip in its pane without them). That option is the whole
 * server's: other sessions' programs only receive the focus reports they
 * ask for.
 */
function finishCmds(
  plan: Pick<LaunchPlan, "mouse" | "borderAffordances">,
  target: string,
  layout: { dashboard: boolean },
): string[][] {
  const cmds = [[
    "set-option",
    "-t",
    target,
    "mouse",
    plan.mouse ? "on" : "off",
  ], ["set-option", "-s", "focus-events", "on"]];
  if (plan.borderAffordances) cmds.push(...borderOptions(target));
  cmds.push(...layoutCmds(target, layout));
  return cmds;
}

/** tmux's pane ids of one batch, checked against the panes it made. */
function expectPanes(ids: string[], count: number): string[] {
  if (ids.length !== count) {
    throw new AppError(
      `Tmux error: expected ${count} panes, tmux reported ${ids.length}`,
      "tmux",
    );
  }
  return ids;
}

/** The agent panes {@link splitAgents} opened, with the files they read. */
type OpenedAgents = { panes: string[]; files: AgentFiles };

/** Split one pane per agent off the session's dashboard pane, in one batch. */
async function splitAgents(plan: LaunchPlan): Promise<OpenedAgents> {
  const target = `${sessionTarget(plan.session)}:`;
  const files = await prepareAgentFiles(plan, plan.agents);
  const cmds: string[][] = [];
  for (const a of plan.agents) {
    cmds.push(...splitCmds(target, agentCmd(plan, a, files.bootFile(a))));
    cmds.push(...agentPaneCmds(plan, a, target));
  }
  cmds.push(...finishCmds(plan, target, { dashboard: true }));
  const batch = tmuxBatch(cmds);
  plan.onOpeningAgents?.();
  const panes = expectPanes(await batch, plan.agents.length);
  return { panes, files };
}

/**
 * Start the agent panes `opened` (still held by their gates) again with
 * `plan.agents`, in plan order: the session moved to another broker URL.
 * Their old boot prompt files are removed.
 */
async function respawnAgents(
  plan: LaunchPlan,
  opened: OpenedAgents,
): Promise<OpenedAgents> {
  const files = await prepareAgentFiles(plan, plan.agents);
  const cmds: string[][] = [];
  plan.agents.forEach((a, i) => {
    const pane = opened.panes[i]!;
    cmds.push([
      "respawn-pane",
      "-k",
      "-t",
      pane,
      ...paneOpts(agentCmd(plan, a, files.bootFile(a))),
    ]);
  });
  await tmuxBatch(cmds);
  await opened.files.removeBootFiles();
  return { panes: opened.panes, files };
}

/** A session without a broker: the agent panes only, in one tmux call. */
async function buildAll(plan: LaunchPlan): Promise<BuiltSession> {
  // Each split makes the new pane the active one, so `-t =<session>:` (the
  // active pane) names it for its title and options.
  const sess = sessionTarget(plan.session);
  const target = `${sess}:`;
  if (plan.agents.length === 0) {
    throw new Error("internal: no panes to launch");
  }
  const files = await prepareAgentFiles(plan, plan.agents);
  const cmds: string[][] = [];
  plan.agents.forEach((a, i) => {
    const p = agentCmd(plan, a, files.bootFile(a));
    if (i === 0) cmds.push(newSessionCmd(plan.session, p, plan.windowSize));
    else cmds.push(...splitCmds(target, p));
    cmds.push(...agentPaneCmds(plan, a, target));
  });
  cmds.push(["set-environment", "-t", sess, "GIT_PAW_REPO", plan.repo]);
  cmds.push(...finishCmds(plan, target, { dashboard: false }));
  try {
    const batch = tmuxBatch(cmds);
    plan.onOpeningAgents?.();
    const ids = await batch;
    return {
      dashboardPane: null,
      agentPanes: expectPanes(ids, plan.agents.length),
    };
  } catch (e) {
    await killSession(plan.session).catch(() => {});
    throw e;
  }
}

/** Border affordances (window-scoped, never global). */
function borderOptions(pane: string): string[][] {
  const w = (k: string, v: string) => ["set-option", "-w", "-t", pane, k, v];
  return [
    w("pane-border-lines", "double"),
    w("pane-border-style", "fg=colour238"),
    w("pane-active-border-style", "fg=colour45,bold"),
    w("pane-border-status", "top"),
    w(
      "pane-border-format",
      " #{pane_index}: #{?#{@paw_role},#{@paw_role},#{pane_title}} ",
    ),
  ];
}

/** Files the agent panes read when they start. */
type AgentFiles = {
  /** File holding `agent`'s typed boot prompt, if it has one. */
  bootFile(agent: LaunchAgent): string | undefined;
  /** Remove the boot prompt files (their panes were started again). */
  removeBootFiles(): Promise<void>;
};

/** Where typed boot prompts wait for their panes (owner-only). */
function bootPromptDir(session: string): string {
  return join(brokerDataDir(session), "boot");
}

/**
 * Before agent panes open: create the pane-log directories and write each
 * typed boot prompt to a file (mode 0600) in {@link bootPromptDir}. The
 * pane's guard types it into its own pane once its CLI runs and then
 * removes the file (`GIT_PAW_BOOT_FILE`, agent_pane.ts): `start` never
 * waits for tmux to process the text.
 */
async function prepareAgentFiles(
  plan: Pick<
    LaunchPlan,
    "repo" | "session" | "logging" | "brokerUrl" | "brokerToken"
  >,
  agents: LaunchAgent[],
): Promise<AgentFiles> {
  // Each pane's environment, in its owner-only file (never in argv).
  await Promise.all(agents.map(async (a) => {
    // Only a CLI that hides the user's git config is given the hooks dir.
    const hooks = plan.brokerUrl && a.agent.profile.hidesGitConfig === true
      ? (await hooksDir(a.agent.worktree).catch(() => null))?.dir ?? null
      : null;
    await writePaneEnv(plan.session, agentEnvName(a), {
      ...sessionVars(plan),
      GIT_PAW_AGENT_ID: a.agent.agentId,
      // The pane's own ports win over a PORT in the launching env.
      ...(a.ports ? portEnv(a.ports) : {}),
      ...await gitIdentityEnv(
        a.agent.profile,
        a.agent.worktree,
        hooks,
      ),
    });
  }));
  // Owner-only and ignored by git (pane_log.ts).
  if (plan.logging) await preparePaneLogDir(plan.repo, plan.session);
  const typed = agents.filter((a) => a.typePrompt);
  const files = new Map<LaunchAgent, string>();
  if (typed.length > 0) {
    const dir = bootPromptDir(plan.session);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Promise.all(typed.map(async (a) => {
      const file = join(dir, `${a.agent.agentId}-${crypto.randomUUID()}.txt`);
      await Deno.writeTextFile(file, a.typePrompt!, { mode: 0o600 });
      files.set(a, file);
    }));
  }
  return {
    bootFile: (a) => files.get(a),
    removeBootFiles: async () => {
      await Promise.all(
        [...files.values()].map((f) => Deno.remove(f).catch(() => {})),
      );
    },
  };
}

/**
 * The tmux commands that follow an agent pane's creation in the same batch:
 * its title and role options, its output piped into its log file. `pane` is
 * the pane's target (the session's active pane right after a split).
 */
function agentPaneCmds(
  plan: Pick<LaunchPlan, "repo" | "session" | "logging">,
  agent: LaunchAgent,
  pane: string,
): string[][] {
  const { branch, agentId } = agent.agent;
  const cmds = paneDecor(pane, branch, branch, agentId);
  if (plan.logging) {
    const log = paneLogPath(plan.repo, plan.session, branch);
    cmds.push(["pipe-pane", "-o", "-t", pane, pipePaneCommand(log)]);
  }
  return cmds;
}

/**
 * Add one agent pane to a running session (split from the last pane,
 * re-tiled: main-horizontal when a dashboard is present).
 */
export async function addAgentPane(
  plan: Omit<LaunchPlan, "agents">,
  agent: LaunchAgent,
): Promise<{ pane: string; index: number }> {
  const before = await listPanes(plan.session);
  const last = before[before.length - 1];
  if (!last) {
    throw new AppError(
      `Tmux error: session '${plan.session}' has no panes`,
      "tmux",
    );
  }
  const hasDashboard = before.some((p) => p.role === "dashboard");
  const supervised = before.some((p) => p.role === SUPERVISOR_ROLE);
  const files = await prepareAgentFiles(plan, [agent]);
  const [id] = await tmuxBatch(
    splitCmds(last.id, agentCmd(plan, agent, files.bootFile(agent))),
  );
  await tmuxBatch([
    ...agentPaneCmds(plan, agent, id!),
    ...supervised ? [] : layoutCmds(id!, { dashboard: hasDashboard }),
  ]);
  if (supervised) await relayoutWindow(plan.session);
  const after = await listPanes(plan.session);
  return {
    pane: id!,
    index: after.find((p) => p.id === id)?.index ?? after.length - 1,
  };
}

/** Re-add the dashboard pane in front of the first pane (restart after pause). */
export async function addDashboardPane(
  plan: Omit<LaunchPlan, "agents">,
): Promise<string> {
  if (!plan.brokerUrl) throw new Error("internal: no broker, no dashboard");
  const panes = await listPanes(plan.session);
  const first = panes[0];
  if (!first) {
    throw new AppError(
      `Tmux error: session '${plan.session}' has no panes`,
      "tmux",
    );
  }
  await writeDashboardEnv(plan, plan.brokerUrl);
  const [id] = await tmuxBatch([[
    "split-window",
    "-b",
    "-t",
    first.id,
    "-P",
    "-F",
    "#{pane_id}",
    ...paneOpts(dashboardCmd(plan, plan.brokerUrl)),
  ]]);
  const supervised = panes.some((p) => p.role === SUPERVISOR_ROLE);
  await tmuxBatch([
    ...paneDecor(id!, "dashboard", "dashboard", ""),
    ...healCmds(id!),
    ...supervised ? [] : layoutCmds(id!, { dashboard: true }),
  ]);
  if (supervised) await relayoutWindow(plan.session);
  return id!;
}

/**
 * A running session whose window does not keep its layout yet (made by an
 * older git-paw) gets the layout and its hook now (layout.ts); one that
 * does is left as the user arranged it.
 */
export async function ensureLayout(
  session: string,
  panes: PaneInfo[],
): Promise<void> {
  const target = `${sessionTarget(session)}:`;
  const hooks = await tmuxTry(["show-hooks", "-w", "-t", target]);
  if (hooks.code === 0 && hooks.stdout.includes("@paw_layout_key")) return;
  if (panes.some((p) => p.role === SUPERVISOR_ROLE)) {
    return await relayoutWindow(session);
  }
  await tmuxBatch(
    layoutCmds(target, {
      dashboard: panes.some((p) => p.role === "dashboard"),
    }),
  );
}

/** `new-session` for pane 0 of a detached session, printing its pane id. */
function newSessionCmd(
  session: string,
  pane: PaneCmd,
  size?: WindowSize | null,
): string[] {
  return [
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    String(size?.width ?? 480),
    "-y",
    String(size?.height ?? 140),
    "-P",
    "-F",
    "#{pane_id}",
    ...paneOpts(pane),
  ];
}

/** The size of the session window (`#{window_width}`×`#{window_height}`). */
async function windowSize(
  target: string,
): Promise<{ width: number; height: number }> {
  const out = await tmuxText([
    "display-message",
    "-p",
    "-t",
    target,
    "#{window_width} #{window_height}",
  ]);
  const [width, height] = out.trim().split(" ").map(Number);
  return { width: width || 480, height: height || 140 };
}

/**
 * Lay the session window out again for the panes it has now (after a pane
 * was added or closed): the supervisor layout when it has a supervisor
 * pane, else main-horizontal / tiled (layout.ts), with the hook that keeps
 * it.
 */
export async function relayoutWindow(session: string): Promise<void> {
  const target = `${sessionTarget(session)}:`;
  const [panes, size] = await Promise.all([
    listPanes(session),
    windowSize(target),
  ]);
  await tmuxBatch(windowLayoutCmds(target, panes, size));
}

/**
 * The supervisor pane: its CLI under the `__agent-pane` guard in the repo
 * root, split in front of the dashboard pane (or of the first pane), then
 * the window laid out for it. Returns its pane id.
 */
export async function addSupervisorPane(
  plan: Omit<LaunchPlan, "agents">,
  sup: LaunchSupervisor,
): Promise<string> {
  const panes = await listPanes(plan.session);
  const anchor = panes.find((p) => p.role === "dashboard") ?? panes[0];
  if (!anchor) {
    throw new AppError(
      `Tmux error: session '${plan.session}' has no panes`,
      "tmux",
    );
  }
  const name = agentPaneEnvName(SUPERVISOR_ID);
  await writePaneEnv(plan.session, name, {
    ...sessionVars(plan),
    ...sup.env,
  });
  const env: Record<string, string> = {
    ...baseEnv(plan, paneEnvPath(plan.session, name)),
    ...sup.env,
  };
  if (plan.launchGate) env.GIT_PAW_LAUNCH_GATE = plan.launchGate;
  if (sup.typePrompt) {
    const dir = bootPromptDir(plan.session);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${SUPERVISOR_ID}-${crypto.randomUUID()}.txt`);
    await Deno.writeTextFile(file, sup.typePrompt, { mode: 0o600 });
    env.GIT_PAW_BOOT_FILE = file;
  }
  const pane: PaneCmd = {
    cwd: plan.repo,
    env,
    argv: agentPaneArgv(sup),
  };
  const [id] = await tmuxBatch([[
    "split-window",
    "-b",
    "-t",
    anchor.id,
    "-P",
    "-F",
    "#{pane_id}",
    ...paneOpts(pane),
  ]]);
  const cmds = paneDecor(id!, SUPERVISOR_ID, SUPERVISOR_ROLE, SUPERVISOR_ID);
  if (plan.logging) {
    const log = paneLogPath(plan.repo, plan.session, SUPERVISOR_ID);
    cmds.push(["pipe-pane", "-o", "-t", id!, pipePaneCommand(log)]);
  }
  await tmuxBatch(cmds);
  await relayoutWindow(plan.session);
  return id!;
}
