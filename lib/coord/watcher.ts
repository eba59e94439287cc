/**
 * Worktree watcher (docs/REFERENCE.md, "Watcher"; event-driven): each watch
 * target's worktree is watched with `Deno.watchFs`; a short debounced batch
 * of real changes (outside `.git`, not under ignored paths, not an editor's
 * or CLI's temporary file) triggers one
 * `git --no-optional-locks status --porcelain -z`, and when the set of
 * modified files changed the watcher publishes
 * `agent.status {status:"working", modified_files}` for the agent. Only
 * paths that still exist (or are tracked and deleted) are reported.
 *
 * Rules: the first observation of a clean tree is a silent baseline; a set
 * observed while the agent's roster label is `committed` is absorbed silently
 * unless the commit is younger than `republish_working_ttl_seconds`; the set
 * right after a commit (files leaving the set) is absorbed. A worktree that
 * vanishes is pruned. Errors are reported once per target and never throw.
 *
 * Commits: in a worktree with a git-paw marker the watcher also watches the
 * marker's branch ref (and HEAD, `packed-refs`); when the branch gets a new
 * commit it publishes the same `agent.artifact {status:"committed"}` as the
 * post-commit hook, with the commit id, so commits are seen when a CLI runs
 * git with hooks off; the broker keeps one artifact per commit.
 *
 * Watches: git-ignored directories are never watched (they would use up the
 * inotify budget). When a watch cannot be had (the limit, or any failure)
 * the target falls back to a `git status` poll, says so once, and tries the
 * watch again later.
 * Needs `--allow-read` on the worktrees and `--allow-run=git`.
 * @module
 */
import { eprintlnQuiet } from "../output.ts";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import type { Broker, BrokerPlugin, WatchTarget } from "../broker/api.ts";
import {
  type BatchWatch,
  planWatch,
  samePlan,
  watchBatches,
  type WatchFactory,
  type WatchPlan,
} from "./fs_watch.ts";
import { gitTry } from "../adapters/git_run.ts";
import type { RunResult } from "../adapters/runner.ts";
import { gitDirsFromLayout } from "../adapters/git_layout.ts";
import { MARKER_FILE, readMarkerFile } from "./marker.ts";
import { errorText } from "../core/errors.ts";

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
  /** How watches are opened (default `Deno.watchFs`; tests inject one). */
  watchFactory?: WatchFactory;
  /** `git status` poll interval while a target cannot be watched (5000). */
  pollIntervalMs?: number;
  /** How often a target that cannot be watched tries again (60000). */
  rewatchIntervalMs?: number;
};

/**
 * File names (the last path part) of temporary files that editors and
 * coding CLIs create and remove again: Claude Code's atomic writes
 * (`x.tmp.<pid>.<hex>`), `*.tmp`, vim (`*.swp`, `*.swo`, `*.swx`, `*~`,
 * `4913`), emacs (`.#x`, `#x#`), kate (`.x.kate-swp`), JetBrains safe writes
 * (`x___jb_tmp___`, `x___jb_old___`), GIO (`.goutputstream-*`) and
 * LibreOffice locks (`.~lock.x#`).
 */
const TEMP_FILE_PATTERNS: readonly RegExp[] = [
  /\.tmp\.\d+\.[0-9a-z]+$/i,
  /\.tmp$/i,
  /\.sw[pox]$/,
  /~$/,
  /^4913$/,
  /^\.#/,
  /^#.*#$/,
  /^\..*\.kate-swp$/,
  /___jb_(tmp|old)___$/,
  /^\.goutputstream-/,
  /^\.~lock\..*#$/,
];

/** True when `name` (a file name, no directory) is a temporary file's. */
export function isTempFileName(name: string): boolean {
  return TEMP_FILE_PATTERNS.some((re) => re.test(name));
}

/** One record of `git status --porcelain -z`. */
export type PorcelainEntry = {
  /** The two status letters (`??` for untracked). */
  xy: string;
  path: string;
  /** The old side of a rename or copy. */
  orig?: string;
};

/** Parse `git status --porcelain -z` output into records, in order. */
export function parsePorcelainEntries(out: string): PorcelainEntry[] {
  const parts = out.split("\0");
  const entries: PorcelainEntry[] = [];
  for (let i = 0; i < parts.length; i++) {
    const rec = parts[i]!;
    if (rec.length < 4) continue;
    const xy = rec.slice(0, 2);
    const e: PorcelainEntry = { xy, path: rec.slice(3) };
    if (xy.includes("R") || xy.includes("C")) {
      const orig = parts[++i];
      if (orig) e.orig = orig;
    }
    entries.push(e);
  }
  return entries;
}

/**
 * Parse `git status --porcelain -z` output into sorted, de-duplicated paths.
 * Renames and copies contribute both sides.
 */
export function parsePorcelainZ(out: string): string[] {
  const files = new Set<string>();
  for (const e of parsePorcelainEntries(out)) {
    files.add(e.path);
    if (e.orig) files.add(e.orig);
  }
  return [...files].sort();
}

/**
 * The paths of `entries` worth reporting: untracked temporary files are
 * dropped, and so is a path that is gone by now unless git lists it as
 * deleted (a tracked file removed is a change; the old side of a rename
 * is kept too). Sorted, de-duplicated.
 */
export async function reportablePaths(
  root: string,
  entries: PorcelainEntry[],
): Promise<string[]> {
  const files = new Set<string>();
  await Promise.all(entries.map(async (e) => {
    if (e.xy === "??" && isTempFileName(basename(e.path))) return;
    if (e.orig) files.add(e.orig);
    if (e.xy.includes("D") || await lexists(join(root, e.path))) {
      files.add(e.path);
    }
  }));
  return [...files].sort();
}

async function lexists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound ||
      err instanceof Deno.errors.NotADirectory);
  }
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

/** What the watcher follows for a worktree's commits. */
type Refs = {
  /** The branch (from the marker), without `refs/heads/`. */
  branch: string;
  /** Events on these paths may mean the branch moved. */
  paths: Set<string>;
  /** Directories to watch alone, and trees to watch, for those paths. */
  flat: string[];
  recursive: string[];
  /** The last tip seen (null: none yet, e.g. an unborn branch). */
  tip: string | null;
};

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
  /** Commit following; undefined until looked up, null when not followed. */
  refs: Refs | null | undefined;
  /** Set while the target cannot be watched and is polled instead. */
  degraded: {
    text: string;
    poll: ReturnType<typeof setInterval>;
    retry: ReturnType<typeof setInterval>;
  } | null;
};

/** A target the watcher cannot watch right now (polled instead). */
export type WatcherWarning = { agent_id: string; path: string; text: string };

const INITIAL = "\u0000initial";
const COMMIT = "\u0000commit";
/** Look at the ignored directories and re-plan the watches. */
const REPLAN = "\u0000replan";
/** A poll tick while degraded. */
const POLL = "\u0000poll";
/** Try the watch again while degraded. */
const RETRY = "\u0000retry";
const MARKS = new Set([INITIAL, COMMIT, REPLAN, POLL, RETRY]);

const defaultLog = eprintlnQuiet;

/** True for the errors `Deno.watchFs` raises at the inotify limits. */
function isWatchLimitError(err: unknown): boolean {
  return /watch limit|no space left|too many open files|os error 2[48]\b/i
    .test(errorText(err));
}

/**
 * Watches every registered worktree of one broker. Create it, then
 * {@link WorktreeWatcher.start}; {@link WorktreeWatcher.close} stops all.
 */
export class WorktreeWatcher {
  readonly #broker: Broker;
  readonly #opts: Required<Omit<WatcherOptions, "watchFactory">> & {
    watchFactory?: WatchFactory;
  };
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
      pollIntervalMs: 5000,
      rewatchIntervalMs: 60_000,
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
    }, { types: ["agent.artifact"] });
    for (const t of this.#broker.watchTargets()) this.add(t);
  }

  /** Paths currently watched (absolute, resolved). */
  paths(): string[] {
    return [...this.#targets.keys()].sort();
  }

  /**
   * Targets that cannot be watched now and are polled instead, with the
   * text that was logged for them (for a dashboard to show).
   */
  warnings(): WatcherWarning[] {
    return [...this.#targets.values()].flatMap((t) =>
      t.degraded
        ? [{ agent_id: t.agentId, path: t.path, text: t.degraded.text }]
        : []
    );
  }

  /** The directories watched for the target at `path` (for tests). */
  watchPlan(path: string): WatchPlan | null {
    return this.#targets.get(resolve(path))?.watch?.plan ?? null;
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
      refs: undefined,
      degraded: null,
    };
    this.#targets.set(path, t);
    const batches = {
      delayMs: this.#opts.debounceMs,
      onBatch: (paths: Set<string>) => this.#onBatch(t, paths),
      onError: (err: unknown) => this.#onWatchError(t, err),
      ...(this.#opts.watchFactory ? { factory: this.#opts.watchFactory } : {}),
    };
    // The root alone at first (edits there are seen at once); the first
    // batch plans the rest once it knows the ignored directories.
    try {
      t.watch = watchBatches({ flat: [path], recursive: [] }, batches);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        this.#prune(t, "does not exist");
        return;
      }
      t.watch = watchBatches({ flat: [], recursive: [] }, batches);
      this.#degrade(t, err);
    }
    t.watch.poke([REPLAN]);
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
    this.#stopTimers(t);
    const w = t.watch;
    t.watch = null;
    // Closing waits for a running batch, which may be this one: don't await.
    void w?.close();
  }

  #stopTimers(t: Target): void {
    if (t.initialTimer !== null) clearTimeout(t.initialTimer);
    t.initialTimer = null;
    if (t.degraded) {
      clearInterval(t.degraded.poll);
      clearInterval(t.degraded.retry);
    }
  }

  /**
   * The watch failed: poll `git status` instead, say so once, and try the
   * watch again every `rewatchIntervalMs`.
   */
  #degrade(t: Target, err: unknown): void {
    if (this.#closed || this.#targets.get(t.path) !== t || t.degraded) return;
    const why = errorText(err);
    const hint = isWatchLimitError(err)
      ? " (inotify limit reached: raise fs.inotify.max_user_watches / max_user_instances)"
      : "";
    const every = Math.round(this.#opts.pollIntervalMs / 100) / 10;
    const text =
      `cannot watch ${t.path}: ${why}${hint}; polling git status every ${every} s and trying the watch again later`;
    t.degraded = {
      text,
      poll: setInterval(
        () => t.watch?.poke([POLL]),
        this.#opts.pollIntervalMs,
      ),
      retry: setInterval(
        () => t.watch?.poke([RETRY]),
        this.#opts.rewatchIntervalMs,
      ),
    };
    this.#report(t, "degraded", text);
  }

  #recovered(t: Target): void {
    if (!t.degraded) return;
    clearInterval(t.degraded.poll);
    clearInterval(t.degraded.retry);
    t.degraded = null;
    t.reported.delete("degraded");
    this.#opts.log(`git-paw watcher: ${t.agentId}: watching ${t.path} again`);
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
    this.#degrade(t, err);
  }

  #relevant(t: Target, path: string): boolean {
    if (path === INITIAL || path === COMMIT || path === POLL) return true;
    if (MARKS.has(path)) return false;
    if (path === t.gitFile || path.startsWith(t.gitDirPrefix)) return false;
    if (!path.startsWith(t.path + sep)) return path === t.path;
    if (isTempFileName(basename(path))) return false;
    const rel = path.slice(t.path.length + 1);
    if (t.ignored.files.has(rel)) return false;
    return !t.ignored.dirs.some((d) => rel.startsWith(d));
  }

  /** git in the worktree, isolated; null (and no report) if it cannot run. */
  async #gitRaw(t: Target, args: string[]): Promise<RunResult | null> {
    try {
      // Isolated: the worktree's own repo, whatever GIT_DIR & co. say.
      return await gitTry(t.path, ["--no-optional-locks", ...args], {
        bin: this.#opts.git,
        isolated: true,
      });
    } catch {
      return null;
    }
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
      this.#report(t, "git", `cannot run git: ${errorText(err)}`);
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

  /**
   * What to watch for `t`: the worktree without its ignored directories
   * (nor `.git`), plus the refs when commits are followed.
   */
  async #plan(t: Target): Promise<WatchPlan> {
    const plan = await planWatch(t.path, {
      skipDirs: [...t.ignored.dirs, ".git/"],
    });
    if (t.refs) {
      plan.flat.push(...t.refs.flat.filter((d) => !plan.flat.includes(d)));
      plan.recursive.push(...t.refs.recursive);
    }
    return plan;
  }

  /**
   * Re-plan the watches (after the ignored set changed, a directory came
   * or went at a level watched alone, or to retry after a failure). The
   * watches are reopened only when the plan changed, unless `force`.
   */
  async #replan(t: Target, force: boolean): Promise<void> {
    const w = t.watch;
    if (!w || this.#closed) return;
    if (t.degraded && !force) return;
    let plan: WatchPlan;
    try {
      plan = await this.#plan(t);
      if (!force && samePlan(plan, w.plan)) return;
      await w.rewatch(plan);
    } catch (err) {
      if (!(await this.#exists(t.path))) return this.#prune(t, "vanished");
      return this.#degrade(t, err);
    }
    this.#recovered(t);
  }

  /** Look up the git dirs and the marker's branch; null when not followed. */
  async #lookUpRefs(t: Target): Promise<Refs | null> {
    let dirs = await gitDirsFromLayout(t.path);
    if (!dirs) {
      const r = await this.#gitRaw(t, [
        "rev-parse",
        "--git-dir",
        "--git-common-dir",
      ]);
      const [g, c] = r?.code === 0 ? r.stdout.split("\n") : [];
      if (!g || !c) return null;
      const abs = (p: string) => isAbsolute(p) ? p : resolve(t.path, p);
      dirs = { gitDir: abs(g), commonDir: abs(c) };
    }
    const marker = await readMarkerFile(join(dirs.gitDir, MARKER_FILE));
    if (!marker) return null; // like the hook: only git-paw's worktrees
    const ref = `refs/heads/${marker.expected_branch}`;
    const refFile = join(dirs.commonDir, ...ref.split("/"));
    const tip = await this.#tip(t, ref);
    return {
      branch: marker.expected_branch,
      paths: new Set([
        join(dirs.gitDir, "HEAD"),
        join(dirs.commonDir, "packed-refs"),
        refFile,
        refFile + ".lock",
      ]),
      flat: [...new Set([dirs.gitDir, dirs.commonDir])],
      recursive: [join(dirs.commonDir, "refs", "heads")],
      tip,
    };
  }

  async #tip(t: Target, ref: string): Promise<string | null> {
    const r = await this.#gitRaw(t, [
      "rev-parse",
      "-q",
      "--verify",
      `${ref}^{commit}`,
    ]);
    return r?.code === 0 && r.stdout.trim() ? r.stdout.trim() : null;
  }

  /**
   * Did the branch get a new commit? A tip that the previous one contains
   * (a reset) does not count; nor does a move the reflog names as something
   * other than a commit, cherry-pick or revert (a fast-forward merge, a
   * rebase). Publishes the artifact the post-commit hook would.
   */
  async #checkCommit(t: Target): Promise<void> {
    const refs = t.refs;
    if (!refs) return;
    const ref = `refs/heads/${refs.branch}`;
    const tip = await this.#tip(t, ref);
    const prev = refs.tip;
    if (tip === null || tip === prev) return;
    refs.tip = tip;
    if (!(await this.#isNewCommit(t, ref, tip, prev))) return;
    const files = await this.#commitFiles(t, tip);
    if (files === null) return;
    this.#committedAt.set(t.agentId, this.#opts.now());
    t.afterCommit = true;
    const r = await this.#broker.publish({
      type: "agent.artifact",
      agent_id: t.agentId,
      payload: {
        status: "committed",
        exports: [],
        modified_files: files,
        commit: tip,
      },
    });
    if (!r.ok) {
      this.#report(t, "publish", `publish refused: ${r.error.body.error}`);
    }
  }

  async #isNewCommit(
    t: Target,
    ref: string,
    tip: string,
    prev: string | null,
  ): Promise<boolean> {
    const log = await this.#gitRaw(t, [
      "log",
      "-g",
      "-1",
      "--format=%H%x00%gs",
      ref,
      "--",
    ]);
    const [sha, subject] = log?.code === 0
      ? log.stdout.replace(/\n$/, "").split("\0")
      : [];
    if (sha === tip && subject !== undefined) {
      return /^(commit|cherry-pick|revert)\b/.test(subject);
    }
    if (prev === null) return true;
    const back = await this.#gitRaw(t, [
      "merge-base",
      "--is-ancestor",
      tip,
      prev,
    ]);
    return back?.code !== 0;
  }

  /** Files of commit `rev` against its first parent (all of a root commit). */
  async #commitFiles(t: Target, rev: string): Promise<string[] | null> {
    const parent = await this.#gitRaw(t, [
      "rev-parse",
      "-q",
      "--verify",
      `${rev}^1`,
    ]);
    const range = parent?.code === 0 ? [`${rev}^1`, rev] : ["--root", rev];
    const out = await this.#git(t, [
      "diff-tree",
      "--no-commit-id",
      "--name-only",
      "-r",
      "-z",
      ...range,
    ]);
    if (out === null) return null;
    return [...new Set(out.split("\0").filter((p) => p !== ""))];
  }

  /** A directory came or went at a level that is watched on its own. */
  async #dirsChanged(t: Target, paths: string[]): Promise<boolean> {
    const plan = t.watch?.plan;
    if (!plan || t.degraded) return false;
    const flat = new Set(plan.flat);
    const trees = new Set(plan.recursive);
    for (const p of paths) {
      if (MARKS.has(p) || flat.has(p) || !flat.has(dirname(p))) continue;
      if (!p.startsWith(t.path + sep) || p.startsWith(t.gitDirPrefix)) continue;
      if (p === t.gitFile) continue;
      if (trees.has(p)) return true; // removed, renamed or made again
      const rel = p.startsWith(t.path + sep) ? p.slice(t.path.length + 1) : "";
      if (rel && t.ignored.dirs.includes(rel + "/")) continue;
      try {
        if ((await Deno.lstat(p)).isDirectory) return true;
      } catch {
        // gone again
      }
    }
    return false;
  }

  async #onBatch(t: Target, batch: Set<string>): Promise<void> {
    if (this.#closed || this.#targets.get(t.path) !== t) return;
    const paths = [...batch];
    const initial = batch.has(INITIAL);
    const touchesRoot = paths.some((p) => p === t.path || p === t.gitFile);
    if (touchesRoot && !(await this.#exists(t.path))) {
      return this.#prune(t, "vanished");
    }
    if (initial || batch.has(REPLAN)) {
      await this.#refreshIgnored(t);
      if (t.refs === undefined) t.refs = await this.#lookUpRefs(t);
      await this.#replan(t, false);
    } else if (batch.has(RETRY)) {
      await this.#replan(t, true);
    } else if (await this.#dirsChanged(t, paths)) {
      await this.#replan(t, true);
    }
    if (this.#targets.get(t.path) !== t) return;
    if (
      t.refs && (batch.has(POLL) || paths.some((p) => t.refs!.paths.has(p)))
    ) {
      await this.#checkCommit(t);
    }
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
    const next = await reportablePaths(t.path, parsePorcelainEntries(out));
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
    const changedIgnore = paths.some((p) => p.endsWith(sep + ".gitignore"));
    if (decision === "unchanged") {
      // Events that changed nothing may come from a newly ignored directory
      // (a poll has no events to explain).
      const onlyPoll = paths.every((p) => p === POLL);
      if (changedIgnore || (!onlyPoll && now - t.ignored.at > 2000)) {
        await this.#refreshIgnored(t);
        await this.#replan(t, false);
      }
      return;
    }
    if (changedIgnore) {
      await this.#refreshIgnored(t);
      await this.#replan(t, false);
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
    for (const t of all) this.#stopTimers(t);
    await Promise.all(all.map((t) => t.watch?.close()));
  }
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
