/**
 * Helpers shared by the session commands: repo context, broker port choice,
 * CLI argv with the boot prompt, discovery file, attach-or-hint.
 * @module
 */
import { basename } from "node:path";
import type { Config } from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import {
  brokerUrlOf,
  type DiscoveryFile,
  type Receipt,
  type ReceiptWorktree,
} from "../core/session.ts";
import {
  canResume,
  launchArgv,
  resumePrompt,
  withHelper,
} from "../core/cli_profiles.ts";
import { selfArgv } from "../adapters/self.ts";
import { repoRoot } from "../adapters/git.ts";
import {
  attachSession,
  currentClientSize,
  hasSession,
  listPanes,
} from "../adapters/tmux.ts";
import { eprintln, println, stdinIsTty } from "../output.ts";
import { loadConfig } from "./config_store.ts";
import { type CliEntry, joinCommand, resolveCli } from "./clis.ts";
import { writeDiscovery } from "./receipt.ts";
import { renderBootBlock } from "../coord/boot_block.ts";
import { agentKeyPath } from "../coord/credentials.ts";
import { gitDirs, gitDirsFromLayout } from "../adapters/git_layout.ts";
import type { LaunchAgent } from "./launch.ts";
import type { PortBlock } from "../core/ports.ts";
import { type AgentPlan, receiptPlan } from "../core/agent_plan.ts";

/** Repo root, project name and merged config of the current directory. */
export type RepoContext = { repo: string; project: string; config: Config };

/** Load the {@link RepoContext} (throws outside a repo / on bad config). */
export async function repoContext(cwd?: string): Promise<RepoContext> {
  const repo = await repoRoot(cwd);
  const config = await loadConfig(repo);
  return { repo, project: basename(repo), config };
}

/**
 * The port for a session's broker: `preferred` when it is free or already
 * served by THIS session's broker (same name and, given `repo`, the same
 * repo); otherwise a free port chosen by the OS (another session's broker —
 * of another repo too, whatever its name — or another program holds
 * `preferred`).
 */
export async function chooseBrokerPort(
  bind: string,
  preferred: number,
  session: string,
  token?: string,
  repo?: string,
): Promise<number> {
  if (preferred > 0) {
    if (canListen(bind, preferred)) return preferred;
    const { describeProbe, probeBroker } = await import(
      "../broker/probe.ts"
    );
    const st = await probeBroker(brokerUrlOf(bind, preferred), session, {
      token,
      repo,
    });
    if (st === "free" || st === "ours") return preferred;
    const port = freePort(bind);
    eprintln(
      `notice: port ${preferred} is in use by ${
        describeProbe(st)
      }; this session's broker uses port ${port}`,
    );
    return port;
  }
  return freePort(bind);
}

/** True when nothing listens on `bind:port` (we could bind it ourselves). */
function canListen(bind: string, port: number): boolean {
  try {
    const l = Deno.listen({ hostname: bind, port });
    l.close();
    return true;
  } catch {
    return false;
  }
}

function freePort(bind: string): number {
  let l: Deno.Listener;
  try {
    l = Deno.listen({ hostname: bind, port: 0 });
  } catch (e) {
    throw new AppError(
      `Broker error: cannot listen on ${bind}: ${
        (e as Error).message
      }. Check [broker] bind in .git-paw/config.toml.`,
      "broker",
    );
  }
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * A {@link resolveCli} that scans PATH once per distinct CLI name: a start
 * with 8 agents on one CLI resolves it once, not 8 times.
 */
export function cliResolver(config: Config): (name: string) => CliEntry {
  const seen = new Map<string, CliEntry>();
  return (name) => {
    let hit = seen.get(name);
    if (!hit) seen.set(name, hit = resolveCli(name, config));
    return hit;
  };
}

/**
 * The {@link AgentPlan} of an agent a receipt lists: its CLI resolved again
 * (`resolve`), else the argv the receipt recorded.
 */
export function receiptAgent(
  w: Pick<ReceiptWorktree, "branch" | "worktree_path" | "cli" | "cli_argv">,
  resolve: (name: string) => { argv: string[] },
): AgentPlan {
  let argv: string[];
  try {
    argv = resolve(w.cli).argv;
  } catch (e) {
    if (!w.cli_argv?.length) throw e;
    argv = w.cli_argv;
  }
  return receiptPlan(w, argv);
}

/**
 * Argv (and typed text) for one agent's CLI, with the prompt placed by the
 * CLI's profile so that no user-given option can swallow it. `prompt`
 * `{ resume: true }` relaunches the CLI's last conversation in the worktree
 * with a short "you were restarted" prompt; a CLI that cannot resume gets
 * `bootPrompt` instead (or nothing).
 */
export function agentLaunch(
  agent: AgentPlan,
  prompt: string | null | { resume: true; bootPrompt: string | null },
  ports?: PortBlock,
): LaunchAgent {
  const profile = agent.profile;
  let text: string | null;
  let resume = false;
  if (prompt !== null && typeof prompt === "object") {
    resume = canResume(profile);
    text = resume ? resumePrompt(agent.agentId) : prompt.bootPrompt;
  } else text = prompt;
  if (text && profile.absoluteHelper) {
    text = withHelper(text, joinCommand(selfArgv()));
  }
  const l = launchArgv(profile, agent.cliArgv, { prompt: text, resume });
  const out: LaunchAgent = { agent, argv: l.argv };
  if (ports) out.ports = ports;
  if (l.typePrompt) out.typePrompt = l.typePrompt;
  return out;
}

/** The boot block for an agent, or null when the broker is off. */
export function bootPrompt(
  agent: AgentPlan,
  url: string | null,
  auth = false,
  keyFile?: string,
): string | null {
  return url
    ? renderBootBlock({
      agentId: agent.agentId,
      brokerUrl: url,
      auth,
      ...(keyFile ? { keyFile } : {}),
    })
    : null;
}

/**
 * The agent key file of each worktree (`<git-dir>/paw-agent-key`, named by
 * the boot block's curl recipes), by worktree path; a worktree whose git dir
 * cannot be found is left out.
 */
export async function agentKeyFiles(
  worktreePaths: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(worktreePaths.map(async (p) => {
    const dirs = await gitDirsFromLayout(p).catch(() => null) ??
      await gitDirs(p).catch(() => null);
    if (dirs) out.set(p, agentKeyPath(dirs.gitDir));
  }));
  return out;
}

/** Broker URL recorded in a receipt, or null. */
export function receiptBrokerUrl(r: Receipt): string | null {
  return r.broker_port
    ? brokerUrlOf(r.broker_bind ?? "127.0.0.1", r.broker_port)
    : null;
}

/**
 * Write the per-repo discovery file; pane indexes are read from tmux when it
 * runs (`askTmux: false` right after a fresh build: indexes follow the plan).
 */
export async function syncDiscovery(
  receipt: Receipt,
  opts: { askTmux?: boolean } = {},
): Promise<void> {
  let panes: Awaited<ReturnType<typeof listPanes>> = [];
  if (opts.askTmux ?? true) {
    try {
      panes = await listPanes(receipt.session_name);
    } catch { /* not running */ }
  }
  // Panes before the agents: the dashboard, and the supervisor's.
  const offset = receipt.broker_port
    ? (receipt.mode === "supervisor" ? 2 : 1)
    : 0;
  const doc: DiscoveryFile = {
    session_name: receipt.session_name,
    agents: receipt.worktrees.map((w, i) => {
      const { agentId } = receiptPlan(w);
      return {
        branch_id: agentId,
        worktree_path: w.worktree_path,
        cli: w.cli,
        pane_index: panes.find((p) => p.agent === agentId)?.index ?? i + offset,
      };
    }),
  };
  await writeDiscovery(receipt.repo_path, doc);
}

/**
 * The window size a session should be made with so that {@link attachOrHint}
 * resizes nothing: the terminal's (the tmux client's inside tmux) less the
 * status line. A resize while a CLI draws its first frames can crash it
 * (Codex 0.169 panics: "index outside of buffer"). Null when `start` will
 * not attach, or for a terminal under 40×12 (then the window starts large
 * and tmux shrinks it to the client, as before).
 */
export async function attachWindowSize(): Promise<
  { width: number; height: number } | null
> {
  if (!stdinIsTty()) return null;
  let size: { width: number; height: number } | null = null;
  if (Deno.env.get("TMUX")) size = await currentClientSize();
  else {
    for (const f of [Deno.stdout, Deno.stderr, Deno.stdin]) {
      try {
        if (!f.isTerminal()) continue;
        const { columns, rows } = Deno.consoleSize();
        size = { width: columns, height: rows };
        break;
      } catch { /* not a terminal */ }
    }
  }
  if (!size || size.width < 40 || size.height < 12) return null;
  // tmux's status line (on by default) takes the last row.
  return { width: size.width, height: size.height - 1 };
}

/**
 * Attach when stdin is a terminal (`switch-client` inside tmux); otherwise
 * print the detached-mode hint. A failed attach never touches the session
 * (only a failed build is rolled back): it throws one line saying why, that
 * the session keeps running, and how to attach.
 * @throws {AppError} `attach_failed`
 */
export async function attachOrHint(session: string): Promise<void> {
  if (stdinIsTty()) {
    const r = await attachSession(session);
    if (r.ok) return;
    const alive = await hasSession(session) === "alive";
    throw new AppError(
      `Tmux error: cannot attach to session '${session}' (${r.reason}); ${
        alive
          ? `it keeps running. Attach with:  tmux attach -t ${session}`
          : "it is no longer running. Run `git paw start` to recover it."
      }`,
      "attach_failed",
    );
  }
  println(`Session '${session}' started in detached mode.`);
  println(`Attach with:  tmux attach -t ${session}`);
}

/** Now as an RFC 3339 UTC timestamp without milliseconds. */
export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Ignore SIGHUP from now on: a command run from a pane of the session it is
 * tearing down keeps going when its own terminal closes.
 */
export function keepRunningOnHangup(): void {
  try {
    Deno.addSignalListener("SIGHUP", () => {});
  } catch { /* not supported on this platform */ }
}

/** True when this process runs inside a pane of `session`. */
export function insideSession(session: string): boolean {
  return !!Deno.env.get("TMUX") && Deno.env.get("GIT_PAW_SESSION") === session;
}
