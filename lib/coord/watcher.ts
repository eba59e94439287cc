/**
 * Worktree watcher (docs/REFERENCE.md, "Watcher"; event-driven): each watch target's worktree is
 * watched with `Deno.watchFs`; a short debounced batch of real changes
 * (outside `.git`, not under ignored paths) triggers one
 * `git --no-optional-locks status --porcelain -z`, and when the set of
 * modified files changed the watcher publishes
 * `agent.status {status:"working", modified_files}` for the agent.
 *
 * Rules: the first observation of a clean tree is a silent baseline; a set
 * observed while the agent's roster label is `committed` is absorbed silently
 * unless the commit is younger than `republish_working_ttl_seconds`; the set
 * right after a commit (files leaving the set) is absorbed. A worktree that
 * vanishes is pruned. Errors are reported once per target and never throw.
 * Needs `--allow-read` on the worktrees and `--allow-run=git`.
 * @module
 */
import { eprintlnQuiet } from "../output.ts";
import { resolve, sep } from "node:path";
import type { Broker, BrokerPlugin, WatchTarget } from "../broker/api.ts";
import { type BatchWatch, watchBatches } from "./fs_watch.ts";
import { gitTry } from "../adapters/git_run.ts";

/** Options of the watcher. */
export type WatcherOptions = {
  /** `[broker.watcher] republish_working_ttl_seconds` (0 disables). */
  republishWorkingTtlSeconds: number;
  /** Debounce window in ms (default 25). */
  debounceMs?: number;
  /** git binary (default `git`). */
  git?: string;
  /** Diagnostics sink (default: stderr). */
  log?: (line: string) => void;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /**
   * Wait this long (ms, default 0) before a new target's first look (two git
   * processes per worktree): a session's broker takes its agents on while
   * `start` is still launching them, and the look can wait until then.
   * Edits seen earlier are checked at once, as always.
   */
  initialScanDelayMs?: number;
};

/**
 * Parse `git status --porcelain -z` output into sorted, de-duplicated paths.
 * Renames and copies contribute both sides.
 */
export function parsePorcelainZ(out: string): string[] {
  const parts = out.split("\0");
  const files = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const rec = parts[i]!;
    if (rec.length < 4) continue;
    const xy = rec.slice(0, 2);
    files.add(rec.slice(3));
    if (xy.includes("R") || xy.includes("C")) {
      const orig = parts[++i];
      if (orig) files.add(orig);
    }
  }
  return [...files].sort();
}

/** What to do with one observed set. */
export type Observation = "unchanged" | "baseline" | "absorb" | "publish";

/** Context of {@link decideObservation}. */
export type ObservationContext = {
  /** Roster label of the agent, or null if it has none yet. */
  label: string | null;
  /** When the agent's last committed artifact was seen (ms), if known. */
  committedAt: number | null;
  now: number;
  ttlSeconds: number;
  /** The check was triggered by the agent's commit. */
  afterCommit?: boolean;
};

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Decide what an observed set means (docs/REFERENCE.md, "Watcher"). `prev` is the last stored set
 * (null before the first observation); both are sorted.
 */
export function decideObservation(
  prev: string[] | null,
  next: string[],
  ctx: ObservationContext,
): Observation {
  if (prev === null && next.length === 0) return "baseline";
  if (prev !== null && sameSet(prev, next)) return "unchanged";
  if (ctx.afterCommit && prev !== null && next.every((f) => prev.includes(f))) {
    // The commit took files out of the set: not new work.
    return "absorb";
  }
  if (ctx.label === "committed") {
    const fresh = ctx.ttlSeconds > 0 && ctx.committedAt !== null &&
      ctx.now - ctx.committedAt <= ctx.ttlSeconds * 1000;
    if (!fresh) return "absorb";
  }
  return "publish";
}

type Target = {
  agentId: string;
  path: string;
  gitFile: string;
  gitDirPrefix: string;
  last: string[] | null;
  watch: BatchWatch | null;
  ignored: { files: Set<string>; dirs: string[]; at: number };
  afterCommit: boolean;
  reported: Set<string>;
  initialTimer: ReturnType<typeof setTimeout> | null;
};

const INITIAL = "\u0000initial";
const COMMIT = "\u0000commit";

const defaultLog = eprintlnQuiet;

/**
 * Watches every registered worktree of one broker. Create it, then
 * {@link WorktreeWatcher.start}; {@link WorktreeWatcher.close} stops all.
 */
export class WorktreeWatcher {
  readonly #broker: Broker;
  readonly #opts: Required<WatcherOptions>;
  readonly #targets = new Map<string, Target>();
  readonly #committedAt = new Map<string, number>();
  #unsubscribe: (() => void) | null = null;
  #closed = false;

  constructor(broker: Broker, opts: WatcherOptions) {
    this.#broker = broker;
    this.#opts = {
      debounceMs: 25,
      initialScanDelayMs: 0,
      git: "git",
      log: defaultLog,
      now: () => Date.now(),
      ...opts,
    };
  }

  /** Watch the broker's current targets and follow new registrations. */
  start(): void {
    this.#unsubscribe = this.#broker.subscribe((ev) => {
      if (ev.kind === "watch") this.add(ev.target);
      else if (ev.kind === "entry") {
        const m = ev.entry.message;
        if (m.type === "agent.artifact" && m.payload.status === "committed") {
          this.#committedAt.set(m.agent_id, this.#opts.now());
          for (const t of this.#targets.values()) {
            if (t.agentId === m.agent_id && t.watch) {
              t.afterCommit = true;
              t.watch.poke([COMMIT]);
            }
          }
        }
      }
    });
    for (const t of this.#broker.watchTargets()) this.add(t);
  }

  /** Paths currently watched (absolute, resolved). */
  paths(): string[] {
    return [...this.#targets.keys()].sort();
  }

  /** Start watching one target; a path already watched is left alone. */
  add(target: WatchTarget): void {
    if (this.#closed || target.worktree_path.trim() === "") return;
    const path = resolve(target.worktree_path);
    if (this.#targets.has(path)) return;
    const t: Target = {
      agentId: target.agent_id,
      path,
      gitFile: path + sep + ".git",
      gitDirPrefix: path + sep + ".git" + sep,
      last: null,
      watch: null,
      ignored: { files: new Set(), dirs: [], at: 0 },
      afterCommit: false,
      reported: new Set(),
      initialTimer: null,
    };
    this.#targets.set(path, t);
    try {
      t.watch = watchBatches(path, {
        delayMs: this.#opts.debounceMs,
        onBatch: (paths) => this.#onBatch(t, paths),
        onError: (err) => this.#onWatchError(t, err),
      });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        this.#prune(t, "does not exist");
      } else {
        const why = message(err);
        const hint = /no space left|too many open files|os error 28/i.test(why)
          ? " (inotify limit reached: raise fs.inotify.max_user_watches / max_user_instances)"
          : "";
        this.#report(t, "watch", `cannot watch ${path}: ${why}${hint}`);
      }
      return;
    }
    const delay = this.#opts.initialScanDelayMs;
    if (delay <= 0) t.watch.poke([INITIAL]);
    else {
      t.initialTimer = setTimeout(() => {
        t.initialTimer = null;
        t.watch?.poke([INITIAL]);
      }, delay);
    }
  }

  #report(t: Target, kind: string, text: string): void {
    if (t.reported.has(kind)) return;
    t.reported.add(kind);
    this.#opts.log(`git-paw watcher: ${t.agentId}: ${text}`);
  }

  #prune(t: Target, why: string): void {
    if (this.#targets.get(t.path) !== t) return;
    this.#targets.delete(t.path);
    this.#opts.log(
      `git-paw watcher: ${t.agentId}: worktree ${t.path} ${why}; stopped watching it`,
    );
    if (t.initialTimer !== null) clearTimeout(t.initialTimer);
    t.initialTimer = null;
    const w = t.watch;
    t.watch = null;
    // Closing waits for a running batch, which may be this one: don't await.
    void w?.close();
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await Deno.stat(path);
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      return true;
    }
  }

  async #onWatchError(t: Target, err: unknown): Promise<void> {
    if (this.#closed || this.#targets.get(t.path) !== t) return;
    if (!(await this.#exists(t.path))) return this.#prune(t, "vanished");
    this.#report(t, "watch", `watch failed: ${message(err)}`);
  }

  #relevant(t: Target, path: string): boolean {
    if (path === INITIAL || path === COMMIT) return true;
    if (path === t.gitFile || path.startsWith(t.gitDirPrefix)) return false;
    if (!path.startsWith(t.path + sep)) return path === t.path;
    const rel = path.slice(t.path.length + 1);
    if (t.ignored.files.has(rel)) return false;
    return !t.ignored.dirs.some((d) => rel.startsWith(d));
  }

  async #git(t: Target, args: string[]): Promise<string | null> {
    try {
      // Isolated: the worktree's own repo, whatever GIT_DIR & co. say.
      const out = await gitTry(t.path, ["--no-optional-locks", ...args], {
        bin: this.#opts.git,
        isolated: true,
      });
      if (out.code !== 0) {
        if (!(await this.#exists(t.path))) {
          this.#prune(t, "vanished");
          return null;
        }
        const err = out.stderr.trim();
        this.#report(t, "git", `git ${args[0]} failed: ${err}`);
        return null;
      }
      return out.stdout;
    } catch (err) {
      if (!(await this.#exists(t.path))) {
        this.#prune(t, "vanished");
        return null;
      }
      this.#report(t, "git", `cannot run git: ${message(err)}`);
      return null;
    }
  }

  async #refreshIgnored(t: Target): Promise<void> {
    t.ignored.at = this.#opts.now();
    const out = await this.#git(t, [
      "ls-files",
      "-z",
      "--others",
      "--ignored",
      "--exclude-standard",
      "--directory",
    ]);
    if (out === null) return;
    const files = new Set<string>();
    const dirs: string[] = [];
    for (const p of out.split("\0")) {
      if (!p) continue;
      if (p.endsWith("/")) dirs.push(p);
      else files.add(p);
    }
    t.ignored = { files, dirs, at: t.ignored.at };
  }

  async #onBatch(t: Target, batch: Set<string>): Promise<void> {
    if (this.#closed || this.#targets.get(t.path) !== t) return;
    const paths = [...batch];
    const initial = batch.has(INITIAL);
    const touchesRoot = paths.some((p) => p === t.path || p === t.gitFile);
    if (touchesRoot && !(await this.#exists(t.path))) {
      return this.#prune(t, "vanished");
    }
    if (initial) await this.#refreshIgnored(t);
    const relevant = paths.filter((p) => this.#relevant(t, p));
    if (relevant.length === 0) return;
    const afterCommit = t.afterCommit;
    t.afterCommit = false;
    const out = await this.#git(t, [
      "status",
      "--porcelain",
      "-z",
      "--untracked-files=all",
    ]);
    if (out === null) return;
    t.reported.delete("git");
    const next = parsePorcelainZ(out);
    const now = this.#opts.now();
    const label =
      this.#broker.agents().find((a) => a.agent_id === t.agentId)?.status ??
        null;
    const decision = decideObservation(t.last, next, {
      label,
      committedAt: this.#committedAt.get(t.agentId) ?? null,
      now,
      ttlSeconds: this.#opts.republishWorkingTtlSeconds,
      afterCommit,
    });
    if (decision === "unchanged") {
      // Events that changed nothing may come from a newly ignored directory.
      const changedIgnore = paths.some((p) => p.endsWith(sep + ".gitignore"));
      if (changedIgnore || now - t.ignored.at > 2000) {
        await this.#refreshIgnored(t);
      }
      return;
    }
    if (paths.some((p) => p.endsWith(sep + ".gitignore"))) {
      await this.#refreshIgnored(t);
    }
    t.last = next;
    if (decision !== "publish") return;
    const r = await this.#broker.publish({
      type: "agent.status",
      agent_id: t.agentId,
      payload: { status: "working", modified_files: next, message: null },
    });
    if (!r.ok) {
      this.#report(t, "publish", `publish refused: ${r.error.body.error}`);
    }
  }

  /** Stop every watch. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    const all = [...this.#targets.values()];
    this.#targets.clear();
    for (const t of all) {
      if (t.initialTimer !== null) clearTimeout(t.initialTimer);
      t.initialTimer = null;
    }
    await Promise.all(all.map((t) => t.watch?.close()));
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The watcher as a broker plugin. */
export function watcherPlugin(opts: WatcherOptions): BrokerPlugin {
  return {
    name: "watcher",
    start(broker) {
      const w = new WorktreeWatcher(broker, opts);
      w.start();
      return () => w.close();
    },
  };
}
