/**
 * The in-process contract of a running broker. The HTTP server (issue "The
 * broker") implements it; the session, the watcher, the conflict detector,
 * learnings, the dashboards and alerts consume it. Types only.
 * @module
 */
import type { Hono } from "hono";
import type { WireError } from "../core/messages.ts";
import type {
  AgentStatusEntry,
  LogEntry,
  WatchTarget,
} from "../core/broker_types.ts";

export type { AgentStatusEntry, LogEntry, WatchTarget };

/** What a subscriber is told, in publish order. */
export type BrokerEvent =
  | {
    kind: "entry";
    entry: LogEntry;
    /** The entry's message as JSON, as the log stores it (when known). */
    json?: string;
  }
  | { kind: "roster" }
  | { kind: "watch"; target: WatchTarget };

/**
 * What a subscriber wants told. By default every event; with `types`, only
 * the entries of those message types (roster and watch events still come).
 * A filter only spares the broker calls a subscriber would ignore: a
 * subscriber still checks what it is given.
 */
export type SubscribeOptions = {
  /** Message types whose entries are delivered (`[]`: no entries at all). */
  types?: readonly LogEntry["message"]["type"][];
};

/** Result of publishing one message. */
export type PublishResult =
  | { ok: true; seq: number }
  | { ok: false; error: WireError };

/**
 * Who holds which agent key (filled by the session side: the broker knows
 * no worktrees). `verify` answers whether `key` is `agentId`'s (`supervisor`
 * included) right now: a removed agent's key stops working, a new agent's
 * works without a restart. Implementations compare in constant time.
 */
export type AgentCredentials = {
  verify(agentId: string, key: string): Promise<boolean>;
};

/** A running broker. */
export interface Broker {
  /** `http://<bind>:<port>` */
  readonly url: string;
  readonly port: number;
  /** Session name reported in `/status` (`session` field). */
  readonly session: string;
  /** Publish an untrusted JSON value exactly as `POST /publish` would. */
  publish(input: unknown): Promise<PublishResult>;
  /** Highest seq assigned so far (0 when empty). */
  lastSeq(): number;
  /** Entries with seq > since, oldest first, at most `limit`; may read disk. */
  logSince(since: number, limit?: number): Promise<LogEntry[]>;
  /** Roster snapshot as served by `/status`. */
  agents(): AgentStatusEntry[];
  /** Watch targets known so far. */
  watchTargets(): WatchTarget[];
  /**
   * Register a worktree for watching exactly as `POST /watch` does (stored,
   * announced to subscribers); false when its path was already registered.
   */
  watch(target: WatchTarget): Promise<boolean>;
  /**
   * Listen to new entries (all, or those `opts.types` names), roster
   * changes and watch registrations.
   */
  subscribe(
    fn: (ev: BrokerEvent) => void,
    opts?: SubscribeOptions,
  ): () => void;
  /**
   * For plugin routes that act for an agent (`POST /approvals`): null when
   * `req` may speak for one of `agentIds` (its `X-Git-Paw-Agent-Key` is
   * theirs, or this broker checks no credentials), else the 403 to answer.
   */
  checkSpeaker(req: Request, agentIds: readonly string[]): Promise<
    Response | null
  >;
  /** Stop serving, flush and fsync the log. Idempotent. */
  close(): Promise<void>;
}

/**
 * An add-on started with the broker (watcher, conflict detector, learnings,
 * alerts). It may also mount HTTP routes (web dashboard, SSE).
 */
export type BrokerPlugin = {
  name: string;
  /** Mount extra routes before the broker's own 404 fallback. */
  routes?: (app: Hono, broker: Broker) => void;
  /** Start after the server listens; return a disposer. */
  start?: (
    broker: Broker,
  ) => Promise<() => Promise<void>> | (() => Promise<void>);
};
