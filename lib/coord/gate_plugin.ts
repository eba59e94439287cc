/**
 * The supervisor's gates as a broker plugin (docs/REFERENCE.md, "Supervisor
 * mode"; pure parts in lib/core/gates.ts). On every committed artifact that
 * names its commit (the post-commit hook's, the watcher's) and on every
 * `supervisor.verify-now`, git-paw — not the supervisor's model — checks
 * the commit out in a scratch worktree of its own
 * (`<state dir>/gates/<agent>-<n>`, `git worktree add --detach`, removed
 * afterwards; the agent's worktree is never touched), runs the configured
 * `[supervisor]` gate commands there in order with a timeout, and
 * publishes `agent.verified` (every gate passed) or `agent.feedback` to the
 * agent with the failing command and its output's tail. One run at a time
 * per agent; a newer commit aborts the running one (the newest wins).
 * Needs `--allow-run` (git, the gate commands), `--allow-read`,
 * `--allow-write` (the state dir).
 * @module
 */
import { join } from "node:path";
import type { Broker, BrokerPlugin, LogEntry } from "../broker/api.ts";
import {
  type Gate,
  GATE_FROM,
  type GateEffect,
  gateFailureText,
  gatePassText,
  gateQueue,
  type GateRun,
  stepGates,
} from "../core/gates.ts";
import { gitTry } from "../adapters/git_run.ts";
import { runTest } from "../adapters/git_merge.ts";
import { pruneWorktrees, removeWorktree } from "../adapters/git.ts";
import { eprintlnQuiet } from "../output.ts";

/** Options of the gates. */
export type GatePluginOptions = {
  /** The repo root (its object store has every agent's commits). */
  repo: string;
  /** The session's state dir: scratch worktrees go under `gates/` there. */
  stateDir: string;
  /** The gates, in order (lib/core/gates.ts `gatesOf`). */
  gates: Gate[];
  /** Longest run of one gate command (ms). */
  timeoutMs: number;
  /** Runs at once over all agents (default 2). */
  maxParallel?: number;
  /** Diagnostics (default: stderr unless quiet). */
  log?: (line: string) => void;
};

/** What one gated commit came to (tests, diagnostics). */
export type GateResult = {
  agent: string;
  commit: string;
  outcome: "verified" | "feedback" | "aborted" | "error";
  detail: string;
};

/** The gates attached to one broker. */
export class GateRunner {
  readonly #broker: Broker;
  readonly #opts: GatePluginOptions;
  readonly #log: (line: string) => void;
  readonly #queue;
  readonly #aborts = new Map<string, AbortController>();
  readonly #runs = new Set<Promise<void>>();
  /** The newest commit each agent reported. */
  readonly #latest = new Map<string, string>();
  #unsubscribe: (() => void) | null = null;
  #closed = false;
  #n = 0;
  /** Leftovers cleared: runs wait for it. */
  #ready: Promise<void> = Promise.resolve();
  /** Every finished run, oldest first (bounded). */
  readonly results: GateResult[] = [];

  constructor(broker: Broker, opts: GatePluginOptions) {
    this.#broker = broker;
    this.#opts = opts;
    this.#log = opts.log ?? eprintlnQuiet;
    this.#queue = gateQueue(opts.maxParallel ?? 2);
  }

  /**
   * Subscribe to the log. Scratch worktrees a crashed pane 0 left behind
   * are removed first (and git's records of them pruned).
   */
  start(): void {
    const leftovers = join(this.#opts.stateDir, "gates");
    const clearing = Deno.remove(leftovers, { recursive: true }).then(
      () =>
        gitTry(this.#opts.repo, ["worktree", "prune"], { isolated: true })
          .then(() => {}),
      () => {}, // none
    );
    this.#ready = clearing;
    this.#unsubscribe = this.#broker.subscribe((ev) => {
      if (ev.kind === "entry") this.#onEntry(ev.entry);
    }, { types: ["agent.artifact", "supervisor.verify-now"] });
  }

  #onEntry(e: LogEntry): void {
    const m = e.message;
    if (
      m.type === "agent.artifact" && m.payload.status === "committed" &&
      m.payload.commit
    ) {
      this.#latest.set(m.agent_id, m.payload.commit);
      this.commit(m.agent_id, m.payload.commit);
    } else if (m.type === "supervisor.verify-now") {
      void this.#verifyNow(m.branch_id);
    }
  }

  /** Gate `commit` of `agent` (once per commit). */
  commit(agent: string, commit: string): void {
    if (this.#closed) return;
    this.#apply(stepGates(this.#queue, { kind: "commit", agent, commit }));
  }

  /** A nudge: the agent's newest reported commit, else its worktree's HEAD. */
  async #verifyNow(agent: string): Promise<void> {
    let commit = this.#latest.get(agent) ?? null;
    if (!commit) {
      const t = this.#broker.watchTargets().find((w) => w.agent_id === agent);
      if (!t) return;
      const r = await gitTry(t.worktree_path, ["rev-parse", "HEAD"]);
      commit = r.code === 0 ? r.stdout.trim() : null;
    }
    if (commit) this.commit(agent, commit);
  }

  #apply(effects: GateEffect[]): void {
    for (const fx of effects) {
      if (fx.kind === "abort") {
        this.#aborts.get(fx.agent)?.abort();
        continue;
      }
      const ctl = new AbortController();
      this.#aborts.set(fx.agent, ctl);
      const p: Promise<void> = this.#run(fx.agent, fx.commit, ctl.signal)
        .then((r) => {
          this.results.push(r);
          if (this.results.length > 1000) this.results.shift();
        })
        .finally(() => {
          this.#runs.delete(p);
          if (this.#aborts.get(fx.agent) === ctl) {
            this.#aborts.delete(fx.agent);
          }
          if (!this.#closed) {
            this.#apply(
              stepGates(this.#queue, { kind: "finished", agent: fx.agent }),
            );
          }
        });
      this.#runs.add(p);
    }
  }

  async #run(
    agent: string,
    commit: string,
    signal: AbortSignal,
  ): Promise<GateResult> {
    const result = (outcome: GateResult["outcome"], detail: string) => ({
      agent,
      commit,
      outcome,
      detail,
    });
    const path = join(
      this.#opts.stateDir,
      "gates",
      `${agent}-${++this.#n}-${commit.slice(0, 8)}`,
    );
    let created = false;
    try {
      await this.#ready;
      await Deno.mkdir(join(this.#opts.stateDir, "gates"), {
        recursive: true,
        mode: 0o700,
      });
      const add = await gitTry(this.#opts.repo, [
        "worktree",
        "add",
        "--detach",
        "-f",
        "--",
        path,
        commit,
      ], { isolated: true });
      if (add.code !== 0) {
        const why = `cannot check out ${
          commit.slice(0, 12)
        }: ${add.stderr.trim()}`;
        this.#log(`git-paw gates: ${agent}: ${why}`);
        return result("error", why);
      }
      created = true;
      let failed: GateRun | null = null;
      for (const gate of this.#opts.gates) {
        if (signal.aborted) return result("aborted", "a newer commit came");
        const r = await runTest(path, gate.argv, {
          signal,
          timeoutMs: this.#opts.timeoutMs,
        });
        if (r.aborted || signal.aborted) {
          return result("aborted", "a newer commit came");
        }
        if (r.code !== 0) {
          failed = {
            gate,
            code: r.code,
            output: r.output,
            timedOut: r.timedOut,
          };
          break;
        }
      }
      if (this.#closed) return result("aborted", "broker closing");
      if (failed) {
        const text = gateFailureText(failed, commit);
        await this.#publish({
          type: "agent.feedback",
          agent_id: agent,
          payload: { from: GATE_FROM, errors: [text] },
        });
        return result("feedback", text);
      }
      const text = gatePassText(this.#opts.gates, commit);
      await this.#publish({
        type: "agent.verified",
        agent_id: agent,
        payload: { verified_by: GATE_FROM, message: text },
      });
      return result("verified", text);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.#log(`git-paw gates: ${agent}: ${why}`);
      return result("error", why);
    } finally {
      // The adapter's removal (forced: what a gate leaves is git-paw's).
      if (created) {
        await removeWorktree(this.#opts.repo, path, { force: true })
          .catch(() => {});
      }
      await Deno.remove(path, { recursive: true }).catch(() => {});
      if (created) await pruneWorktrees(this.#opts.repo).catch(() => {});
    }
  }

  async #publish(msg: unknown): Promise<void> {
    try {
      const r = await this.#broker.publish(msg);
      if (!r.ok) {
        this.#log(`git-paw gates: cannot publish: ${r.error.body.error}`);
      }
    } catch (e) {
      this.#log(`git-paw gates: cannot publish: ${e}`);
    }
  }

  /** Resolves when no run is going on. */
  async settled(): Promise<void> {
    await this.#ready;
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
  }

  /** Stop: unsubscribe, abort the runs and wait for their cleanup. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    for (const c of this.#aborts.values()) c.abort();
    await this.settled();
  }
}

/** The gates as a broker plugin (`runner` gets the started instance). */
export function gatePlugin(
  opts: GatePluginOptions,
  onStart?: (runner: GateRunner) => void,
): BrokerPlugin {
  return {
    name: "gates",
    start(broker) {
      const runner = new GateRunner(broker, opts);
      runner.start();
      onStart?.(runner);
      return () => runner.close();
    },
  };
}
