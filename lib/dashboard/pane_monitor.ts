/**
 * The screen detector at run time, in pane 0: about once a second it
 * captures every agent pane of the session (one tmux call for all of them),
 * reads each screen with `lib/core/screen_detect.ts`, and publishes the
 * agent's `agent.status` when it changes: `needs_input` naming what the CLI
 * waits for (the command on screen, or the tool call the CLI's hooks saw
 * start: the state file in the worktree's git dir) when the broker does not
 * already say so, and `idle`/`working` once the prompt is gone. The CLI's
 * own hooks win where they exist: a `needs_input` they published first is
 * left alone. This is the fast path for Claude Code too, whose permission
 * notification comes ~6 s after the prompt.
 *
 * Needs `--allow-run=tmux`, `--allow-read` (the hooks' state file).
 * @module
 */
import { basename } from "node:path";
import type { Broker, BrokerPlugin } from "../broker/api.ts";
import { cliStatusMessage, SCREEN_SOURCE } from "../core/cli_events.ts";
import {
  detectScreen,
  emptyScreenTrack,
  type ScreenTrack,
  stepScreen,
} from "../core/screen_detect.ts";
import { capturePanes, listPanes } from "../adapters/tmux.ts";
import { findGitDir, readCliState } from "../adapters/cli_state.ts";

/** An agent pane: its tmux pane id and the agent it runs. */
export type AgentPane = { pane: string; agent: string };

/** Options for {@link PaneMonitor}. */
export type PaneMonitorOptions = {
  session: string;
  /** Between two captures (default 1000 ms). */
  intervalMs?: number;
  /** The session's agent panes (default: `list-panes`, `@paw_agent`). */
  panes?: () => Promise<AgentPane[]>;
  /** Screens by pane id (default: {@link capturePanes}). */
  capture?: (panes: string[]) => Promise<Map<string, string>>;
};

/** Re-list the panes every this many captures (agents come and go). */
const LIST_EVERY = 5;

/** The CLI's name from a configured command (`claude --x` → `claude`). */
export function cliName(cli: string | null | undefined): string {
  const first = (cli ?? "").trim().split(/\s+/)[0] ?? "";
  return basename(first);
}

/** Watches the agent panes of one session and publishes what they show. */
export class PaneMonitor {
  readonly #broker: Broker;
  readonly #opts: PaneMonitorOptions;
  readonly #tracks = new Map<string, ScreenTrack>();
  #panes: AgentPane[] = [];
  #ticks = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(broker: Broker, opts: PaneMonitorOptions) {
    this.#broker = broker;
    this.#opts = opts;
  }

  /** Start capturing (the first capture runs at once). */
  start(): void {
    this.#schedule(0);
  }

  /** Stop; waits for a capture under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = this.tick().catch(() => {}).finally(() => {
        this.#running = null;
        this.#schedule(this.#opts.intervalMs ?? 1000);
      });
    }, ms);
  }

  /** One round: capture every agent pane, publish what changed. */
  async tick(): Promise<void> {
    if (this.#ticks++ % LIST_EVERY === 0 || this.#panes.length === 0) {
      this.#panes = await (this.#opts.panes ?? (() =>
        sessionPanes(
          this.#opts.session,
        )))().catch(() => this.#panes);
    }
    if (this.#panes.length === 0) return;
    const screens = await (this.#opts.capture ?? capturePanes)(
      this.#panes.map((p) => p.pane),
    );
    const roster = new Map(
      this.#broker.agents().map((a) => [a.agent_id, a] as const),
    );
    const targets = new Map(
      this.#broker.watchTargets().map((t) => [t.agent_id, t] as const),
    );
    for (const { pane, agent } of this.#panes) {
      const text = screens.get(pane);
      if (text === undefined || this.#stopped) continue;
      const target = targets.get(agent);
      const cli = cliName(target?.cli ?? roster.get(agent)?.cli);
      const screen = detectScreen(cli, text);
      let pending: string | null = null;
      if (screen.kind === "permission" && target) {
        const gitDir = findGitDir(target.worktree_path);
        if (gitDir) {
          pending = readCliState(gitDir, cli).pending?.label ?? null;
        }
      }
      const step = stepScreen(
        this.#tracks.get(agent) ?? emptyScreenTrack(),
        screen,
        { brokerStatus: roster.get(agent)?.status ?? null, pending },
      );
      this.#tracks.set(agent, step.track);
      if (!step.publish) continue;
      await this.#broker.publish(
        cliStatusMessage(agent, cli || null, step.publish, {
          source: SCREEN_SOURCE,
          event: screen.kind,
        }),
      );
    }
  }
}

/** The session's live agent panes, from the `@paw_agent` pane option. */
async function sessionPanes(session: string): Promise<AgentPane[]> {
  return (await listPanes(session))
    .filter((p) => p.agent !== "" && !p.dead)
    .map((p) => ({ pane: p.id, agent: p.agent }));
}

/** The broker plugin that runs the screen detector for a session. */
export function paneMonitorPlugin(opts: PaneMonitorOptions): BrokerPlugin {
  return {
    name: "pane-monitor",
    start: (broker: Broker) => {
      const monitor = new PaneMonitor(broker, opts);
      monitor.start();
      return () => monitor.stop();
    },
  };
}
