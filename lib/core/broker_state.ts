/**
 * The broker's delivery core (docs/REFERENCE.md, "Delivery and roster"): roster, inboxes, routing,
 * cursor polls and a bounded window of recent entries, as plain functions over
 * a {@link BrokerState}. Pure: no I/O, no clock reads — every function that
 * needs the time takes `nowMs` (Unix milliseconds).
 *
 * Inboxes hold only sequence numbers (paged `Uint32Array`s, always sorted
 * because seqs only grow), so a poll is a binary search plus a copy of the k
 * answers: O(log n + k). Optionally a ring of the most recent entries keeps
 * their bodies; the durable store (lib/broker/store.ts) turns it off and
 * keeps a byte ring of its log instead, reading older entries from disk.
 * @module
 */
import {
  type BrokerMessage,
  identityOf,
  statusLabel,
  SUPERVISOR_ID,
} from "./messages.ts";

/** Labels that stay until another terminal label replaces them (§8.4). */
const TERMINAL_LABELS: ReadonlySet<string> = new Set([
  "done",
  "verified",
  "blocked",
  "committed",
]);

/** The label of an agent waiting for a person (a CLI's prompt). */
export const NEEDS_INPUT_LABEL = "needs_input";

/**
 * One published message as kept by the broker. Only the serialised body is
 * held (one string: cheap for the garbage collector while the entry sits in
 * the window); `message` is parsed back on first use.
 */
export class StoredEntry {
  readonly seq: number;
  readonly timestamp_unix_secs: number;
  /** `JSON.stringify(message)`, computed once at publish time. */
  readonly json: string;
  #message: BrokerMessage | undefined;

  constructor(
    seq: number,
    timestampSecs: number,
    json: string,
    message?: BrokerMessage,
  ) {
    this.seq = seq;
    this.timestamp_unix_secs = timestampSecs;
    this.json = json;
    this.#message = message;
  }

  /** The message (parsed from `json` on first use). */
  get message(): BrokerMessage {
    return (this.#message ??= JSON.parse(this.json) as BrokerMessage);
  }
}

/** A roster row (agents that published a roster-updating type). */
export type AgentRecord = {
  agent_id: string;
  status: string;
  /** Unix ms of the last roster-updating publish. */
  lastSeenMs: number;
  /** Unix ms of the last `agent.artifact {status:"committed"}`, if any. */
  lastCommittedMs: number | null;
  /** Last `payload.phase` of an `agent.status`, if any. */
  phase: string | null;
  /** Seq of the last roster-updating message. */
  lastSeq: number;
};

/**
 * Sorted list of the seqs delivered to one agent, in fixed 4 Ki-entry pages
 * (4 bytes a message, never reallocated).
 */
export type Inbox = { pages: Uint32Array[]; length: number };

const INBOX_PAGE_BITS = 12;
const INBOX_PAGE = 1 << INBOX_PAGE_BITS;
const INBOX_MASK = INBOX_PAGE - 1;

/** Seqs per inbox page (every page but an inbox's last is full). */
export const INBOX_PAGE_SIZE = INBOX_PAGE;

function inboxAt(inbox: Inbox, i: number): number {
  return inbox.pages[i >>> INBOX_PAGE_BITS]![i & INBOX_MASK]!;
}

/** A worktree registered for watching. */
export type WatchRecord = {
  agent_id: string;
  worktree_path: string;
  cli: string | null;
};

/** Everything the delivery core knows. Mutated in place by its functions. */
export type BrokerState = {
  /** Highest seq assigned so far (0 when empty). */
  lastSeq: number;
  agents: Map<string, AgentRecord>;
  /** CLI label per agent (seeded, `/watch`, or first `agent.status` cli). */
  clis: Map<string, string>;
  inboxes: Map<string, Inbox>;
  /** Watch targets keyed by worktree path. */
  watched: Map<string, WatchRecord>;
  /** Committed → working re-entry window (0 disables it). */
  republishWorkingTtlMs: number;
  /** Ring of the most recent entries, indexed by `seq % windowSize`. */
  window: Array<StoredEntry | undefined>;
  windowSize: number;
  /** Seq of each committed artifact with a commit id, per agent and commit. */
  commits: Map<string, Map<string, number>>;
  /**
   * Seq of each recent message that carried a client `msg_id`, keyed
   * `<sender>\n<msg_id>`, oldest first; at most {@link MSG_ID_MEMORY}.
   */
  msgIds: Map<string, number>;
};

/** How many recent client message ids the broker remembers. */
const MSG_ID_MEMORY = 10_000;

/** Options for {@link createBrokerState}. */
export type BrokerStateOptions = {
  /** Default 60 s (`[broker.watcher] republish_working_ttl_seconds`, docs/REFERENCE.md, "Configuration"). */
  republishWorkingTtlSeconds?: number;
  /**
   * How many recent entries keep their bodies in memory (0 = none: the
   * durable store keeps its own byte window). Default 10,000.
   */
  windowSize?: number;
};

/** A fresh, empty state. */
export function createBrokerState(opts: BrokerStateOptions = {}): BrokerState {
  const windowSize = Math.max(0, Math.floor(opts.windowSize ?? 10_000));
  return {
    lastSeq: 0,
    agents: new Map(),
    clis: new Map(),
    inboxes: new Map(),
    watched: new Map(),
    republishWorkingTtlMs: Math.max(0, opts.republishWorkingTtlSeconds ?? 60) *
      1000,
    window: new Array(windowSize),
    windowSize,
    commits: new Map(),
    msgIds: new Map(),
  };
}

/** Make sure `agentId` has an inbox; true when it was created now. */
function ensureInbox(state: BrokerState, agentId: string): boolean {
  if (state.inboxes.has(agentId)) return false;
  state.inboxes.set(agentId, { pages: [], length: 0 });
  return true;
}

function deliver(state: BrokerState, agentId: string, seq: number): void {
  const inbox = state.inboxes.get(agentId);
  if (!inbox) return;
  const i = inbox.length++;
  if ((i & INBOX_MASK) === 0) inbox.pages.push(new Uint32Array(INBOX_PAGE));
  inbox.pages[i >>> INBOX_PAGE_BITS]![i & INBOX_MASK] = seq;
}

/**
 * Seed an agent known at launch: its CLI (if non-blank) and an empty inbox.
 */
export function seedAgent(
  state: BrokerState,
  agentId: string,
  cli?: string | null,
): void {
  if (cli && cli.trim() !== "") state.clis.set(agentId, cli);
  ensureInbox(state, agentId);
}

/**
 * Register a worktree for watching. Idempotent per path: returns false (and
 * changes nothing) when the path is already registered. A new registration
 * records the CLI (if non-blank) and creates the agent's inbox.
 */
export function registerWatch(
  state: BrokerState,
  target: WatchRecord,
): boolean {
  if (state.watched.has(target.worktree_path)) return false;
  state.watched.set(target.worktree_path, { ...target });
  seedAgent(state, target.agent_id, target.cli);
  return true;
}

/** Drop a watched path so a later registration of it counts as new. */
export function forgetWatch(state: BrokerState, worktreePath: string): boolean {
  return state.watched.delete(worktreePath);
}

/** What {@link publish} did. */
export type PublishOutcome = {
  entry: StoredEntry;
  /** The message as published (the entry itself keeps only its JSON). */
  message: BrokerMessage;
  /** Inboxes the message was appended to. */
  deliveredTo: string[];
  /** True when a roster row was created or changed. */
  rosterChanged: boolean;
};

/**
 * The label an agent ends up with when `next` arrives (docs/REFERENCE.md, "Delivery and roster"): terminal
 * labels stick unless the new label is terminal too, except
 * `committed → working` within the re-entry TTL of the commit, and
 * `needs_input`: an agent waiting for a person shows it whatever it said
 * before (its next status then replaces it as usual).
 */
export function nextLabel(
  state: BrokerState,
  record: AgentRecord | undefined,
  next: string,
  nowMs: number,
): string {
  if (!record || record.status === "") return next;
  const current = record.status;
  if (next === NEEDS_INPUT_LABEL) return next;
  if (!TERMINAL_LABELS.has(current) || TERMINAL_LABELS.has(next)) return next;
  if (
    current === "committed" && next === "working" &&
    state.republishWorkingTtlMs > 0 && record.lastCommittedMs !== null &&
    nowMs - record.lastCommittedMs < state.republishWorkingTtlMs
  ) return next;
  return current;
}

function updateRoster(
  state: BrokerState,
  msg: BrokerMessage,
  agentId: string,
  label: string,
  seq: number,
  nowMs: number,
): boolean {
  let record = state.agents.get(agentId);
  let changed = false;
  if (!record) {
    record = {
      agent_id: agentId,
      status: "",
      lastSeenMs: nowMs,
      lastCommittedMs: null,
      phase: null,
      lastSeq: seq,
    };
    state.agents.set(agentId, record);
    changed = true;
  }
  const status = nextLabel(state, record, label, nowMs);
  if (status !== record.status) changed = true;
  record.status = status;
  record.lastSeenMs = nowMs;
  record.lastSeq = seq;
  if (msg.type === "agent.artifact" && msg.payload.status === "committed") {
    record.lastCommittedMs = nowMs;
  }
  if (msg.type === "agent.status") {
    if (msg.payload.phase != null && msg.payload.phase !== record.phase) {
      record.phase = msg.payload.phase;
      changed = true;
    }
    const cli = msg.payload.cli;
    if (cli && cli.trim() !== "" && !state.clis.get(agentId)) {
      state.clis.set(agentId, cli);
      changed = true;
    }
  }
  ensureInbox(state, agentId);
  return changed;
}

function broadcast(
  state: BrokerState,
  seq: number,
  except: string,
  out: string[],
): void {
  for (const id of state.inboxes.keys()) {
    if (id === except) continue;
    deliver(state, id, seq);
    out.push(id);
  }
}

function deliverIfExists(
  state: BrokerState,
  id: string,
  seq: number,
  out: string[],
): void {
  if (!state.inboxes.has(id)) return;
  deliver(state, id, seq);
  out.push(id);
}

function deliverCreating(
  state: BrokerState,
  id: string,
  seq: number,
  out: string[],
): void {
  ensureInbox(state, id);
  deliver(state, id, seq);
  out.push(id);
}

/**
 * Publish a validated, normalised message (see `parseMessage()`): assign the
 * next seq, update the roster, append to the window and route it (docs/REFERENCE.md, "Delivery and roster").
 *
 * @param opts.seq force a seq (replay from disk); must exceed `lastSeq`.
 * @param opts.timestampSecs force the entry timestamp (replay).
 * @param opts.entry the entry itself, already built (its seq, timestamp and
 *   JSON are used as they are; the durable store builds it when it queues
 *   the line).
 * @example
 * ```ts
 * import { createBrokerState, publish, poll } from "./broker_state.ts";
 * const s = createBrokerState();
 * publish(s, { type: "agent.question", agent_id: "feat-a", payload: { question: "why?" } }, 0);
 * poll(s, "supervisor", 0).lastSeq; // 1
 * ```
 */
export function publish(
  state: BrokerState,
  msg: BrokerMessage,
  nowMs: number,
  opts: {
    seq?: number;
    timestampSecs?: number;
    json?: string;
    entry?: StoredEntry;
  } = {},
): PublishOutcome {
  const seq = opts.entry?.seq ?? opts.seq ?? state.lastSeq + 1;
  if (!(seq > state.lastSeq)) {
    throw new RangeError(`seq ${seq} must exceed ${state.lastSeq}`);
  }
  state.lastSeq = seq;
  const entry = opts.entry ?? new StoredEntry(
    seq,
    opts.timestampSecs ?? Math.floor(nowMs / 1000),
    opts.json ?? JSON.stringify(msg),
  );
  if (state.windowSize > 0) state.window[seq % state.windowSize] = entry;

  const sender = identityOf(msg);
  const label = statusLabel(msg);
  const rosterChanged = label === null
    ? false
    : updateRoster(state, msg, sender, label, seq, nowMs);

  recordCommit(state, msg, seq);

  if (msg.msg_id !== undefined) {
    const key = `${sender}\n${msg.msg_id}`;
    if (!state.msgIds.has(key)) {
      state.msgIds.set(key, seq);
      if (state.msgIds.size > MSG_ID_MEMORY) {
        state.msgIds.delete(state.msgIds.keys().next().value!);
      }
    }
  }

  const to: string[] = [];
  switch (msg.type) {
    case "agent.status":
      break;
    case "agent.artifact":
    case "agent.intent":
      broadcast(state, seq, sender, to);
      break;
    case "agent.blocked":
      deliverIfExists(state, msg.payload.from, seq, to);
      break;
    case "agent.verified":
      broadcast(state, seq, msg.payload.verified_by, to);
      break;
    case "agent.feedback":
      deliverIfExists(state, msg.agent_id, seq, to);
      break;
    case "agent.question":
    case "supervisor.verify-now":
    case "approval.request":
      deliverCreating(state, SUPERVISOR_ID, seq, to);
      break;
    case "agent.advanced-main":
      broadcast(state, seq, msg.from, to);
      break;
    case "agent.learning":
      deliverCreating(state, msg.payload.branch_id ?? SUPERVISOR_ID, seq, to);
      break;
    case "approval.decision":
      break;
  }
  return { entry, message: msg, deliveredTo: to, rosterChanged };
}

/**
 * Note the commit id of a committed artifact under `seq` (the first report
 * of a commit wins; anything else is ignored). {@link publish} does it; the
 * durable store also does it when it queues the message, so a second report
 * in the same batch is known at once.
 */
export function recordCommit(
  state: BrokerState,
  msg: BrokerMessage,
  seq: number,
): void {
  if (
    msg.type !== "agent.artifact" || msg.payload.status !== "committed" ||
    msg.payload.commit === undefined
  ) return;
  const sender = identityOf(msg);
  let seen = state.commits.get(sender);
  if (!seen) state.commits.set(sender, seen = new Map());
  if (!seen.has(msg.payload.commit)) seen.set(msg.payload.commit, seq);
}

/** Forget commits noted under a seq above `seq` (a batch that was not stored). */
export function forgetCommitsAfter(state: BrokerState, seq: number): void {
  for (const [agent, seen] of state.commits) {
    for (const [commit, at] of seen) if (at > seq) seen.delete(commit);
    if (seen.size === 0) state.commits.delete(agent);
  }
}

/**
 * The seq under which the commit of a committed artifact was already stored
 * for its agent, or null (not a committed artifact, no commit id, or a new
 * commit). The post-commit hook and the watcher both report a commit; the
 * shell drops the second report when this is non-null.
 */
export function storedCommitSeq(
  state: BrokerState,
  msg: BrokerMessage,
): number | null {
  if (msg.type !== "agent.artifact" || msg.payload.status !== "committed") {
    return null;
  }
  const commit = msg.payload.commit;
  if (commit === undefined) return null;
  return state.commits.get(identityOf(msg))?.get(commit) ?? null;
}

/**
 * The seq under which a message with the same sender and client `msg_id`
 * was stored (among the last {@link MSG_ID_MEMORY}), or null. A sender that
 * delivers its outbox again after a lost answer is told that seq, and the
 * message is not stored twice.
 */
export function storedMsgSeq(
  state: BrokerState,
  msg: BrokerMessage,
): number | null {
  if (msg.msg_id === undefined) return null;
  return state.msgIds.get(`${identityOf(msg)}\n${msg.msg_id}`) ?? null;
}

/** First index in `a[0..len)` whose value is > `since` (binary search). */
export function upperBound(a: Uint32Array, len: number, since: number): number {
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= since) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Result of {@link poll}: the seqs to return and the new cursor. */
export type PollResult = {
  /** Seqs > since, oldest first, at most `limit`. */
  seqs: Uint32Array;
  /** Highest returned seq, or `since` when nothing is returned. */
  lastSeq: number;
};

/**
 * Seqs in `agentId`'s inbox newer than `since`, oldest first, at most
 * `limit`. Non-destructive; an unknown inbox answers nothing. O(log n + k).
 */
export function poll(
  state: BrokerState,
  agentId: string,
  since: number,
  limit = Infinity,
): PollResult {
  const inbox = state.inboxes.get(agentId);
  if (!inbox) return { seqs: new Uint32Array(0), lastSeq: since };
  // Binary search for the first seq > since.
  let lo = 0;
  let hi = inbox.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (inboxAt(inbox, mid) <= since) lo = mid + 1;
    else hi = mid;
  }
  const end = Math.min(inbox.length, lo + Math.max(0, limit));
  const seqs = new Uint32Array(end - lo);
  for (let i = lo; i < end; i++) seqs[i - lo] = inboxAt(inbox, i);
  return { seqs, lastSeq: seqs.length ? seqs[seqs.length - 1]! : since };
}

/** The entry with `seq` if it is still in the in-memory window. */
export function entryInWindow(
  state: BrokerState,
  seq: number,
): StoredEntry | undefined {
  if (state.windowSize === 0) return undefined;
  const e = state.window[seq % state.windowSize];
  return e && e.seq === seq ? e : undefined;
}

/**
 * Poll and resolve bodies from the window: `messages` are the found entries,
 * `missing` the seqs that left the window (the shell reads them from disk).
 */
export function pollWindow(
  state: BrokerState,
  agentId: string,
  since: number,
  limit = Infinity,
): { entries: StoredEntry[]; missing: number[]; lastSeq: number } {
  const r = poll(state, agentId, since, limit);
  const entries: StoredEntry[] = [];
  const missing: number[] = [];
  for (const seq of r.seqs) {
    const e = entryInWindow(state, seq);
    if (e) entries.push(e);
    else missing.push(seq);
  }
  return { entries, missing, lastSeq: r.lastSeq };
}

/** One `/status` row. */
export type RosterRow = {
  agent_id: string;
  cli: string;
  status: string;
  last_seen_seconds: number;
  summary: string;
  phase?: string;
};

/** Roster snapshot for `/status`, sorted by agent id. */
export function snapshot(state: BrokerState, nowMs: number): RosterRow[] {
  const rows: RosterRow[] = [];
  for (const r of state.agents.values()) {
    const row: RosterRow = {
      agent_id: r.agent_id,
      cli: state.clis.get(r.agent_id) ?? "",
      status: r.status,
      last_seen_seconds: Math.max(0, Math.floor((nowMs - r.lastSeenMs) / 1000)),
      summary: "",
    };
    if (r.phase !== null) row.phase = r.phase;
    rows.push(row);
  }
  rows.sort((
    a,
    b,
  ) => (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0));
  return rows;
}

/** Watch targets in registration order. */
export function watchTargets(state: BrokerState): WatchRecord[] {
  return [...state.watched.values()].map((w) => ({ ...w }));
}

/** The message JSON as returned by a poll: the body plus its `seq`. */
export function pollJson(entry: StoredEntry): string {
  const j = entry.json;
  return j.length > 2
    ? `${j.slice(0, -1)},"seq":${entry.seq}}`
    : `{"seq":${entry.seq}}`;
}
