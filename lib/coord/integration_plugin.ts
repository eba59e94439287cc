/**
 * The integration lane as a broker plugin (issue "Review, integrate,
 * merge"). On every committed artifact (and every `agent.advanced-main`)
 * it merges the default branch and all live agent branches with
 * `git merge-tree --write-tree` — objects only, the user's checkout is
 * never touched — and
 * - tells both agents of a textual conflict, naming the files and each other;
 * - with a test command, runs it on the merged tree in a scratch worktree
 *   (`<common-dir>/paw-integration/lane`) and, when the union fails while
 *   each branch alone passes, finds the smallest failing combination
 *   (`combinationSearch` in `lib/core/integration.ts`) and tells the agents
 *   in it, quoting the first failing lines.
 * One check at a time; a newer commit aborts the running one (its test
 * process is killed) and starts another. Merges are cached by their inputs,
 * test results by tree id. The status goes to
 * `<common-dir>/paw-integration/status.json` (owner-only) for
 * `git paw integrate --status` and the dashboards.
 * @module
 */
import { dirname, join } from "node:path";
import type {
  Broker,
  BrokerPlugin,
  LogEntry,
  WatchTarget,
} from "../broker/api.ts";
import {
  type AgentTip,
  combinationFeedback,
  combinationSearch,
  conflictFeedback,
  failingLines,
  findingKey,
  initialLaneState,
  INTEGRATION_FROM,
  type IntegrationFinding,
  integrationLine,
  type IntegrationStatus,
  type LaneEffect,
  type LaneEvent,
  type LaneFeedback,
  type LaneState,
  reduceLane,
} from "../core/integration.ts";
import { defaultBranch, worktreeList } from "../adapters/git.ts";
import {
  branchTips,
  cleanScratch,
  commitTree,
  ensureScratchWorktree,
  isAncestorQuick,
  mergeTrees,
  resetScratch,
  runTest,
  scratchRoot,
  type TreeMerge,
} from "../adapters/git_merge.ts";
import { canonical, writeTextAtomic } from "../adapters/fs.ts";
import { gitText } from "../adapters/git_run.ts";
import { eprintlnQuiet } from "../output.ts";
import { trace } from "../trace.ts";
import { errorText } from "../core/errors.ts";

/** Options of the lane. */
export type IntegrationPluginOptions = {
  /** The repo root. */
  repo: string;
  /** Test command argv; `null` = textual conflicts only. */
  testArgv: string[] | null;
  /** Longest test run (ms). */
  timeoutMs: number;
  /** Diagnostics sink (default: stderr). */
  log?: (line: string) => void;
  /** Clock for the status file (default `Date.now`). */
  now?: () => number;
  /** Told every status change (the TUI's line). */
  onStatus?: (s: IntegrationStatus) => void;
};

/** Where the lane writes its status for a repo's common dir. */
export function integrationStatusPath(scratch: string): string {
  return join(scratch, "status.json");
}

class Superseded extends Error {
  constructor() {
    super("superseded by a newer commit");
    this.name = "Superseded";
  }
}

type TestResult = { ok: boolean; code: number; output: string };
type Chain =
  | { ok: true; tree: string; commit: () => Promise<string> }
  | { ok: false; files: string[] };

const CACHE_MAX = 2000;

function remember<K, V>(m: Map<K, V>, k: K, v: V): V {
  if (m.size >= CACHE_MAX) m.delete(m.keys().next().value as K);
  m.set(k, v);
  return v;
}

/** The lane attached to one broker. */
export class IntegrationLane {
  readonly #broker: Broker;
  readonly #opts: IntegrationPluginOptions;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  #lane: LaneState = initialLaneState();
  #abort: AbortController | null = null;
  #running: Promise<void> | null = null;
  #closed = false;
  #completed = 0;
  #unsubscribe: (() => void) | null = null;
  #base: string | null = null;
  #scratchRoot: string | null = null;
  #branchOf = new Map<string, string | null>();
  #rereading: Promise<void> | null = null;
  readonly #merges = new Map<string, TreeMerge>();
  readonly #commits = new Map<string, string>();
  readonly #tests = new Map<string, TestResult>();
  readonly #reported = new Set<string>();
  #last: Promise<
    {
      base: string;
      tips: Map<string, string>;
      commit: string;
      tree: string;
    } | null
  > = Promise.resolve(null);
  /** The tree the scratch worktree's index holds, when known. */
  #scratchTree: string | null = null;
  /** A clean scratch worktree being prepared (clean -fdx) ahead of use. */
  #prepared: Promise<string> | null = null;
  #writing: Promise<void> = Promise.resolve();
  /** Writes the union commit; run when the check is over. */
  #deferred: (() => void) | null = null;
  #status: IntegrationStatus;

  constructor(broker: Broker, opts: IntegrationPluginOptions) {
    this.#broker = broker;
    this.#opts = opts;
    this.#log = opts.log ?? eprintlnQuiet;
    this.#now = opts.now ?? (() => Date.now());
    this.#status = {
      state: "idle",
      updated_at: new Date(this.#now()).toISOString(),
      base: null,
      agents: [],
      union_tree: null,
      test_command: opts.testArgv,
      findings: [],
      test_runs: 0,
      cache_hits: 0,
      superseded: 0,
      detail: null,
    };
  }

  /** The current status (tests, diagnostics). */
  get status(): IntegrationStatus {
    return this.#status;
  }

  /** Subscribe and write the first status. */
  async start(): Promise<void> {
    try {
      this.#scratchRoot = await scratchRoot(this.#opts.repo);
    } catch (e) {
      this.#log(
        `git-paw integration: off: ${this.#opts.repo} is not a git repository (${
          (e as Error).message
        })`,
      );
      return;
    }
    this.#unsubscribe = this.#broker.subscribe((ev) => {
      if (ev.kind === "entry" && triggers(ev.entry)) this.commit();
      if (ev.kind === "watch") this.#branchOf.clear();
    }, { types: TRIGGER_TYPES });
    await this.#writeStatus();
  }

  /** A commit happened: check (or supersede the running check). */
  commit(): void {
    this.#step({ kind: "commit" });
  }

  /** Checks that ran to the end (not superseded). */
  get completed(): number {
    return this.#completed;
  }

  /** True while a check runs or is queued. */
  get busy(): boolean {
    return this.#running !== null || this.#lane.running;
  }

  /** Resolves when no check runs or is queued. */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
    await this.#rereading;
    await this.#last;
    await this.#prepared?.catch(() => {});
    await this.#writing;
  }

  #step(e: LaneEvent): void {
    if (this.#closed) return;
    const { state, effects } = reduceLane(this.#lane, e);
    this.#lane = state;
    for (const fx of effects) this.#effect(fx);
  }

  #effect(fx: LaneEffect): void {
    if (fx.kind === "abort") {
      this.#abort?.abort();
      return;
    }
    const ctl = new AbortController();
    this.#abort = ctl;
    this.#running = this.#check(ctl.signal).then(() => {
      this.#completed++;
    }, (e) => {
      if (e instanceof Superseded || ctl.signal.aborted) return;
      const why = errorText(e);
      this.#log(`git-paw integration: ${why}`);
      return this.#setStatus({ state: "error", detail: why });
    }).finally(() => {
      this.#running = null;
      this.#step({ kind: "finished" });
    });
  }

  async #setStatus(p: Partial<IntegrationStatus>): Promise<void> {
    this.#status = {
      ...this.#status,
      ...p,
      superseded: this.#lane.superseded,
      updated_at: new Date(this.#now()).toISOString(),
    };
    this.#opts.onStatus?.(this.#status);
    // Written in order, off the check's critical path.
    const status = this.#status;
    this.#writing = this.#writing.then(() => this.#writeStatus(status));
    await Promise.resolve();
  }

  async #writeStatus(status = this.#status): Promise<void> {
    if (!this.#scratchRoot) return;
    try {
      await Deno.mkdir(this.#scratchRoot, { recursive: true, mode: 0o700 });
      await writeTextAtomic(
        integrationStatusPath(this.#scratchRoot),
        JSON.stringify(status, null, 2) + "\n",
        { mode: 0o600 },
      );
    } catch (e) {
      this.#log(`git-paw integration: cannot write status: ${e}`);
    }
  }

  /** Which branch each watched worktree has checked out. */
  async #readBranches(targets: readonly WatchTarget[]): Promise<void> {
    const list = await worktreeList(this.#opts.repo);
    for (const t of targets) {
      const p = await canonical(t.worktree_path).catch(() => t.worktree_path);
      this.#branchOf.set(
        t.worktree_path,
        list.find((w) => w.path === p)?.branch ?? null,
      );
    }
  }

  /** The live agents with their branches and tips, the base tip. */
  async #agents(): Promise<
    { base: string; baseTip: string; tips: AgentTip[] }
  > {
    const repo = this.#opts.repo;
    this.#base ??= await defaultBranch(repo);
    const targets = this.#broker.watchTargets();
    if (targets.some((t) => !this.#branchOf.has(t.worktree_path))) {
      await this.#readBranches(targets);
    } else {
      await this.#rereading; // started when the last check ended
    }
    const agents = targets.flatMap((t) => {
      const b = this.#branchOf.get(t.worktree_path);
      return b && b !== this.#base ? [{ agent: t.agent_id, branch: b }] : [];
    }).sort((a, b) => a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0);
    const tips = await branchTips(repo, [
      this.#base,
      ...agents.map((a) => a.branch),
    ], { commonDir: dirname(this.#scratchRoot!) });
    const baseTip = tips.get(this.#base);
    if (!baseTip) throw new Error(`default branch '${this.#base}' not found`);
    return {
      base: this.#base,
      baseTip,
      tips: agents.flatMap((a) => {
        const c = tips.get(a.branch);
        return c && c !== baseTip ? [{ ...a, commit: c }] : [];
      }),
    };
  }

  async #merge(a: string, b: string): Promise<TreeMerge> {
    const key = `${a} ${b}`;
    return this.#merges.get(key) ??
      remember(this.#merges, key, await mergeTrees(this.#opts.repo, a, b));
  }

  async #commitOf(a: string, b: string, tree: string): Promise<string> {
    const key = `${a} ${b}`;
    const hit = this.#commits.get(key);
    if (hit) return hit;
    const c = await commitTree(this.#opts.repo, {
      tree,
      parents: [a, b],
      message: "git-paw integration",
    }, { pawIdentity: true });
    return remember(this.#commits, key, c);
  }

  /** Merge `tips` one by one on top of `from`. */
  async #chain(from: string, tips: readonly string[]): Promise<Chain> {
    let acc = from;
    if (tips.length === 0) {
      return {
        ok: true,
        tree: (await gitText(this.#opts.repo, [
          "rev-parse",
          `${from}^{tree}`,
        ])).trim(),
        commit: () => Promise.resolve(from),
      };
    }
    for (const [i, tip] of tips.entries()) {
      const m = await this.#merge(acc, tip);
      if (!m.ok) return m;
      if (i === tips.length - 1) {
        const at = acc;
        return {
          ok: true,
          tree: m.tree,
          commit: () => this.#commitOf(at, tip, m.tree),
        };
      }
      acc = await this.#commitOf(acc, tip, m.tree);
    }
    throw new Error("unreachable");
  }

  /**
   * The union of all tips: on top of the previous union when the base is
   * the same and every moved branch only moved forward (one merge per moved
   * branch), else merged from scratch.
   */
  async #union(baseTip: string, tips: AgentTip[]): Promise<Chain> {
    this.#flushDeferred();
    const last = await this.#last;
    if (
      last && last.base === baseTip && last.tips.size === tips.length &&
      tips.every((t) => last.tips.has(t.agent))
    ) {
      const moved = tips.filter((t) => last.tips.get(t.agent) !== t.commit);
      if (moved.length === 0) {
        const { commit, tree } = last;
        return { ok: true, tree, commit: () => Promise.resolve(commit) };
      }
      // Merge onto the last union while asking whether that is valid (every
      // moved branch only moved forward); on 2+ cores the ask is free.
      const [forward, onLast] = await Promise.all([
        Promise.all(
          moved.map((t) =>
            isAncestorQuick(
              this.#opts.repo,
              dirname(this.#scratchRoot!),
              last.tips.get(t.agent)!,
              t.commit,
            )
          ),
        ),
        this.#chain(last.commit, moved.map((t) => t.commit)),
      ]);
      if (forward.every(Boolean)) return onLast;
    }
    return await this.#chain(baseTip, tips.map((t) => t.commit));
  }

  async #test(
    tree: string,
    signal: AbortSignal,
  ): Promise<TestResult> {
    const hit = this.#tests.get(tree);
    if (hit) {
      this.#status.cache_hits++;
      return hit;
    }
    if (signal.aborted) throw new Superseded();
    const argv = this.#opts.testArgv!;
    const scratch = await this.#prepare();
    this.#prepared = null;
    trace("integration: scratch clean");
    await resetScratch(
      scratch,
      tree,
      this.#scratchTree ? { from: this.#scratchTree } : {},
    ).catch((e) => {
      this.#scratchTree = null;
      throw e;
    });
    this.#scratchTree = tree;
    trace("integration: scratch reset");
    if (signal.aborted) throw new Superseded();
    this.#status.test_runs++;
    const running = runTest(scratch, argv, {
      signal,
      timeoutMs: this.#opts.timeoutMs,
    });
    const r = await running;
    trace("integration: test ran");
    if (r.aborted) throw new Superseded();
    const res = {
      ok: r.code === 0,
      code: r.code,
      output: r.timedOut
        ? `${r.output}\ntest command timed out after ${this.#opts.timeoutMs} ms`
        : r.output,
    };
    return remember(this.#tests, tree, res);
  }

  #flushDeferred(): void {
    const d = this.#deferred;
    this.#deferred = null;
    d?.();
  }

  /** The scratch worktree, clean; started ahead of time when possible. */
  #prepare(): Promise<string> {
    if (!this.#prepared) {
      const p = ensureScratchWorktree(this.#opts.repo, "lane", "HEAD").then(
        async (path) => {
          await cleanScratch(path);
          // Undo what a test did to tracked files, so the next update can
          // be a two-tree read-tree that touches only what differs.
          const held = this.#scratchTree;
          if (held) {
            await resetScratch(path, held).catch(() => {
              this.#scratchTree = null;
            });
          }
          return path;
        },
      );
      p.catch(() => {}); // whoever awaits it sees the error
      this.#prepared = p;
    }
    return this.#prepared;
  }

  async #check(signal: AbortSignal): Promise<void> {
    trace("integration: check starts");
    if (this.#opts.testArgv) this.#prepare();
    const { base, baseTip, tips } = await this.#agents();
    trace("integration: tips read");
    if (signal.aborted) throw new Superseded();
    await this.#setStatus({
      state: "running",
      base,
      agents: tips,
      detail: null,
    });
    const findings: IntegrationFinding[] = [];
    const feedback: LaneFeedback[] = [];
    const union = await this.#union(baseTip, tips);
    trace("integration: union merged");
    let clean = tips;
    let unionTree: string | null = null;
    if (union.ok) {
      unionTree = union.tree;
      // Keep the union commit for the next incremental check.
      // (written while the tests run).
      const tipsNow = new Map(tips.map((t) => [t.agent, t.commit]));
      const tree = union.tree;
      this.#deferred = () => {
        this.#last = union.commit().then(
          (commit) => ({ base: baseTip, tips: tipsNow, commit, tree }),
          () => null,
        );
      };
    } else {
      // Which pairs conflict (and which branches conflict with the base).
      const bad = new Set<string>();
      for (const t of tips) {
        const m = await this.#merge(baseTip, t.commit);
        if (!m.ok) {
          bad.add(t.agent);
          findings.push({
            kind: "conflict",
            agents: [t.agent],
            files: m.files,
            lines: [],
          });
        }
      }
      for (let i = 0; i < tips.length; i++) {
        for (let j = i + 1; j < tips.length; j++) {
          const a = tips[i]!, b = tips[j]!;
          if (bad.has(a.agent) || bad.has(b.agent)) continue;
          const m = await this.#merge(a.commit, b.commit);
          if (m.ok) continue;
          findings.push({
            kind: "conflict",
            agents: [a.agent, b.agent],
            files: m.files,
            lines: [],
          });
          if (this.#once("conflict", [a, b])) {
            feedback.push(...conflictFeedback(a, b, m.files));
          }
        }
      }
      const involved = new Set(findings.flatMap((f) => f.agents));
      clean = tips.filter((t) => !involved.has(t.agent));
      if (involved.size === 0) {
        // The chain conflicts, no pair does: name everyone in it.
        findings.push({
          kind: "conflict",
          agents: tips.map((t) => t.agent),
          files: union.files,
          lines: [],
        });
        clean = [];
      }
    }
    if (signal.aborted) throw new Superseded();
    await this.#publish(feedback.splice(0));
    if (this.#opts.testArgv && clean.length > 0) {
      const byAgent = new Map(clean.map((t) => [t.agent, t]));
      const search = combinationSearch(clean.map((t) => t.agent));
      let step = search.next();
      const results = new Map<string, TestResult>();
      while (!step.done) {
        const set = step.value.map((a) => byAgent.get(a)!);
        const chain = set.length === clean.length && union.ok
          ? union
          : await this.#chain(baseTip, set.map((t) => t.commit));
        let ok = true;
        if (chain.ok) {
          const r = await this.#test(chain.tree, signal);
          results.set(step.value.join(","), r);
          ok = r.ok;
        }
        step = search.next(ok);
      }
      const found = step.value;
      if (found.kind !== "green") {
        for (const a of found.failingAlone) {
          const r = results.get(a);
          findings.push({
            kind: "alone",
            agents: [a],
            files: [],
            lines: r ? failingLines(r.output) : [],
          });
        }
      }
      if (found.kind === "combination") {
        for (const names of found.sets) {
          const set = names.map((a) => byAgent.get(a)!);
          const r = results.get(names.join(","));
          const lines = r ? failingLines(r.output) : [];
          findings.push({ kind: "test", agents: names, files: [], lines });
          if (r && this.#once("test", set)) {
            feedback.push(
              ...combinationFeedback(set, {
                command: this.#opts.testArgv,
                code: r.code,
                output: r.output,
              }),
            );
          }
        }
      }
    }
    if (signal.aborted) throw new Superseded();
    await this.#publish(feedback);
    const conflict = findings.some((f) => f.kind === "conflict");
    const failing = findings.some((f) => f.kind !== "conflict");
    await this.#setStatus({
      state: conflict ? "conflict" : failing ? "failing" : "green",
      union_tree: unionTree,
      findings,
    });
    // Between checks: the union's commit (the next check merges onto it),
    // the scratch worktree cleaned, and a re-read of the worktree list (an
    // agent may switch its worktree to another branch).
    this.#flushDeferred();
    if (this.#opts.testArgv) this.#prepare();
    const p: Promise<void> = this.#readBranches(this.#broker.watchTargets())
      .catch(() => {}).finally(() => {
        if (this.#rereading === p) this.#rereading = null;
      });
    this.#rereading = p;
  }

  /** True the first time a finding is seen on these commits. */
  #once(kind: string, set: readonly AgentTip[]): boolean {
    const k = findingKey(kind, set);
    if (this.#reported.has(k)) return false;
    this.#reported.add(k);
    return true;
  }

  async #publish(list: LaneFeedback[]): Promise<void> {
    for (const f of list) {
      try {
        const r = await this.#broker.publish({
          type: "agent.feedback",
          agent_id: f.to,
          payload: { from: INTEGRATION_FROM, errors: [f.text] },
        });
        if (!r.ok) {
          this.#log(
            `git-paw integration: cannot publish: ${r.error.body.error}`,
          );
        }
      } catch (e) {
        this.#log(`git-paw integration: cannot publish: ${e}`);
      }
    }
  }

  /** Stop: unsubscribe, abort the running check and wait for it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#abort?.abort();
    await this.settled();
    this.#flushDeferred();
    await this.#prepared?.catch(() => {});
    await this.#last;
    await this.#rereading;
    await this.#writing;
  }
}

/** The message types {@link triggers} may say yes to. */
const TRIGGER_TYPES = ["agent.artifact", "agent.advanced-main"] as const;

function triggers(e: LogEntry): boolean {
  const m = e.message;
  return (m.type === "agent.artifact" && m.payload.status === "committed") ||
    m.type === "agent.advanced-main";
}

/** The lane as a broker plugin. */
export function integrationPlugin(
  opts: IntegrationPluginOptions,
): BrokerPlugin {
  let lane: IntegrationLane | null = null;
  return {
    name: "integration",
    routes(app) {
      // The lane's status for the web page and scripts.
      app.get(
        "/integration",
        (c) =>
          lane
            ? c.json({ ...lane.status, line: integrationLine(lane.status) })
            : c.json({ error: "integration lane not started" }, 503),
      );
    },
    async start(broker) {
      lane = new IntegrationLane(broker, opts);
      await lane.start();
      opts.onStatus?.(lane.status);
      const l = lane;
      return () => l.close();
    },
  };
}
