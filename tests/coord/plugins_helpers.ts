/**
 * Helpers for the coordination tests: temp git repos with linked worktrees
 * and a small in-memory {@link Broker} used by the tests
 * that exercise one plugin without HTTP (the HTTP path is covered with the
 * real broker in plugins_broker_test.ts).
 * @module
 */
import { join } from "node:path";
import type {
  AgentStatusEntry,
  Broker,
  BrokerEvent,
  LogEntry,
  PublishResult,
  WatchTarget,
} from "../../lib/broker/api.ts";
import { parseMessage, statusLabel } from "../../lib/core/messages.ts";
import { addWorktree, makeRepo } from "../_helpers/repo.ts";

/** Environment for git with a fixed identity (no global config needed). */
export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Run git in `cwd`; throws with stderr on failure. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/** A temp repo with one commit and `n` linked worktrees (branches feat-a…). */
export type TempRepo = AsyncDisposable & {
  root: string;
  repo: string;
  worktrees: Array<{ agentId: string; path: string }>;
};

/** Create a temp repo with linked worktrees on branches `feat/<letter>`. */
export async function tempRepo(n: number): Promise<TempRepo> {
  const t = await makeRepo({
    prefix: "paw-coord-",
    files: { "README.md": "hello\n", ".gitignore": "build/\n*.log\n" },
  });
  const worktrees = [];
  for (let i = 0; i < n; i++) {
    const letter = String.fromCharCode(97 + i);
    const path = join(t.root, `proj-feat-${letter}`);
    await addWorktree(t.repo, `feat/${letter}`, path);
    worktrees.push({ agentId: `feat-${letter}`, path });
  }
  return Object.assign(t, { worktrees });
}

/** Resolve after `ms`. Only for asserting that nothing happens. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const TERMINAL = new Set(["done", "verified", "blocked", "committed"]);

/**
 * An in-memory broker: validates like `POST /publish`, keeps a log, a
 * roster with the sticky-label rule (committed→working allowed within the
 * TTL), watch targets and subscribers.
 */
export class MemoryBroker implements Broker {
  readonly url = "http://127.0.0.1:0";
  readonly port = 0;
  readonly session = "test";
  readonly log: LogEntry[] = [];
  readonly #roster = new Map<
    string,
    { status: string; committedAt: number | null }
  >();
  readonly #targets: WatchTarget[] = [];
  readonly #subs = new Set<(ev: BrokerEvent) => void>();
  ttlSeconds: number;

  constructor(ttlSeconds = 60) {
    this.ttlSeconds = ttlSeconds;
  }

  publish(input: unknown): Promise<PublishResult> {
    const p = parseMessage(input);
    if (!p.ok) return Promise.resolve({ ok: false, error: p.error });
    const label = statusLabel(p.message);
    if (label !== null) {
      const cur = this.#roster.get(p.agentId);
      let next = label;
      if (cur && TERMINAL.has(cur.status) && !TERMINAL.has(label)) {
        const fresh = cur.status === "committed" && label === "working" &&
          cur.committedAt !== null &&
          Date.now() - cur.committedAt <= this.ttlSeconds * 1000;
        if (!fresh) next = cur.status;
      }
      this.#roster.set(p.agentId, {
        status: next,
        committedAt: label === "committed"
          ? Date.now()
          : cur?.committedAt ?? null,
      });
    }
    const entry: LogEntry = {
      seq: this.log.length + 1,
      timestamp_unix_secs: Math.floor(Date.now() / 1000),
      message: p.message,
    };
    this.log.push(entry);
    this.#emit({ kind: "entry", entry });
    if (label !== null) this.#emit({ kind: "roster" });
    return Promise.resolve({ ok: true, seq: entry.seq });
  }

  lastSeq(): number {
    return this.log.length;
  }

  logSince(since: number, limit = 1000): Promise<LogEntry[]> {
    return Promise.resolve(
      this.log.filter((e) => e.seq > since).slice(0, limit),
    );
  }

  agents(): AgentStatusEntry[] {
    return [...this.#roster.entries()].sort().map(([agent_id, r]) => ({
      agent_id,
      cli: "",
      status: r.status,
      last_seen_seconds: 0,
      summary: "",
    }));
  }

  watchTargets(): WatchTarget[] {
    return [...this.#targets];
  }

  /** Register a target like `POST /watch` (idempotent per path). */
  watch(target: WatchTarget): Promise<boolean> {
    if (this.#targets.some((t) => t.worktree_path === target.worktree_path)) {
      return Promise.resolve(false);
    }
    this.#targets.push(target);
    this.#emit({ kind: "watch", target });
    return Promise.resolve(true);
  }

  /** Checks no credentials (an in-memory broker is open). */
  checkSpeaker(): Promise<Response | null> {
    return Promise.resolve(null);
  }

  subscribe(fn: (ev: BrokerEvent) => void): () => void {
    this.#subs.add(fn);
    return () => this.#subs.delete(fn);
  }

  #emit(ev: BrokerEvent): void {
    for (const fn of this.#subs) fn(ev);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Statuses published for `agent`, oldest first. */
  statuses(agent: string): string[][] {
    return this.log.flatMap((e) =>
      e.message.type === "agent.status" && e.message.agent_id === agent
        ? [e.message.payload.modified_files]
        : []
    );
  }
}
