/**
 * What needs a person, as the web page's "Needs you" list shows it first:
 * pending approvals of the queue, open agent questions and agents waiting
 * at `needs_input`, rebuilt from the broker's log plus the roster. Also
 * the rules of answering one from the page (an answer applies once) and
 * the feedback text an answer or a "tell" sends. Pure.
 *
 * - An approval is listed while it is pending in the queue (`mode:
 *   "queue"`; a pane-mode request is the CLI's own prompt, listed as its
 *   agent's `needs_input`).
 * - A question (`agent.question`) is open until an `agent.feedback`
 *   reaches its agent after it from anyone but git-paw's automatic lanes
 *   ({@link AUTOMATIC_SENDERS}) — the page's Answer or Tell, the supervisor,
 *   `git paw tell` — or the agent reports a terminal status.
 * - An agent is listed as waiting while the roster says `needs_input` and
 *   that is not its queue approval's wait (the approval is the item); the
 *   text is what its newest `needs_input` status said. A feedback after it
 *   marks the wait answered (the agent may still wait: it stays listed,
 *   with Tell only).
 * @module
 */
import type { AgentStatusEntry, LogEntry } from "./broker_types.ts";
import {
  applyApprovalEntry,
  type ApprovalRecord,
  type ApprovalsState,
  createApprovalsState,
} from "./approvals.ts";
import { isTerminalStatus, NEEDS_INPUT } from "./dashboard_alerts.ts";
import { oneLine } from "./dashboard_text.ts";
import { formatDuration } from "./duration.ts";

/** Who the page's decisions and feedback are recorded as. */
export const WEB_FROM = "web";

/**
 * Senders of `agent.feedback` that are git-paw's own lanes, not a person:
 * their feedback answers no question.
 */
export const AUTOMATIC_SENDERS: ReadonlySet<string> = new Set([
  "review",
  "integration",
  "merge-queue",
  "branch-guard",
]);

/** Questions kept once closed (for "already answered"), at most. */
const MAX_CLOSED = 500;

/** How a question or wait was closed. */
export type AskClosed = { by: string; at: number };

/** An agent's question or wait, and whether someone answered it. */
export type Ask = {
  /** Seq of the message that asked. */
  seq: number;
  agent: string;
  /** What it asks or waits for (raw). */
  text: string;
  /** Unix seconds. */
  at: number;
  closed: AskClosed | null;
};

/** Mutable state; create with {@link createNeedsYouState}. */
export type NeedsYouState = {
  approvals: ApprovalsState;
  /** Questions by seq (open and recently closed). */
  questions: Map<number, Ask>;
  /** The newest `needs_input` wait of each agent. */
  waits: Map<string, Ask>;
  /** Agents whose `needs_input` is a queue approval's (that is their item). */
  queueWaits: Set<string>;
  /** Highest seq applied (older entries are ignored). */
  lastSeq: number;
};

/** An empty state. */
export function createNeedsYouState(): NeedsYouState {
  return {
    approvals: createApprovalsState(),
    questions: new Map(),
    waits: new Map(),
    queueWaits: new Set(),
    lastSeq: 0,
  };
}

function fileReport(e: LogEntry): boolean {
  const m = e.message;
  return m.type === "agent.status" && m.payload.status === "working" &&
    !m.payload.message && m.payload.detail === undefined;
}

function answerOpen(
  state: NeedsYouState,
  agent: string,
  before: number,
  closed: AskClosed,
): boolean {
  let changed = false;
  for (const q of state.questions.values()) {
    if (q.agent === agent && q.closed === null && q.seq < before) {
      q.closed = closed;
      changed = true;
    }
  }
  const w = state.waits.get(agent);
  if (w && w.closed === null && w.seq < before) {
    w.closed = closed;
    changed = true;
  }
  return changed;
}

function prune(state: NeedsYouState): void {
  let closed = 0;
  for (const q of state.questions.values()) if (q.closed) closed++;
  if (closed <= MAX_CLOSED) return;
  for (const [seq, q] of state.questions) {
    if (closed <= MAX_CLOSED) break;
    if (q.closed) {
      state.questions.delete(seq);
      closed--;
    }
  }
}

/**
 * Apply one log entry (entries at or below the last applied seq are
 * ignored, so a replay overlapping live entries is harmless).
 * @returns true when the list may have changed
 */
export function applyNeedsYouEntry(
  state: NeedsYouState,
  e: LogEntry,
): boolean {
  if (e.seq <= state.lastSeq) return false;
  state.lastSeq = e.seq;
  const m = e.message;
  const at = e.timestamp_unix_secs;
  switch (m.type) {
    case "approval.request":
    case "approval.decision":
      return applyApprovalEntry(state.approvals, e) !== null;
    case "agent.question":
      state.questions.set(e.seq, {
        seq: e.seq,
        agent: m.agent_id,
        text: m.payload.question,
        at,
        closed: null,
      });
      return true;
    case "agent.feedback": {
      if (AUTOMATIC_SENDERS.has(m.payload.from)) return false;
      const changed = answerOpen(state, m.agent_id, e.seq, {
        by: m.payload.from,
        at,
      });
      prune(state);
      return changed;
    }
    case "agent.status":
    case "agent.artifact": {
      const agent = m.agent_id;
      const status = m.payload.status;
      if (m.type === "agent.status" && status === NEEDS_INPUT) {
        const detail = m.payload.detail as { approval?: unknown } | undefined;
        if (detail?.approval !== undefined) {
          // The queue's own wait: the approval is the item.
          state.queueWaits.add(agent);
          return state.waits.delete(agent);
        }
        state.queueWaits.delete(agent);
        const text = m.payload.message ?? "waiting for a person";
        const prev = state.waits.get(agent);
        // The same wait again (hook after screen detector): keep the first.
        if (prev && prev.text === text) return false;
        state.waits.set(agent, { seq: e.seq, agent, text, at, closed: null });
        return true;
      }
      let changed = false;
      if (!fileReport(e)) {
        if (state.waits.delete(agent)) changed = true;
        if (state.queueWaits.delete(agent)) changed = true;
      }
      if (isTerminalStatus(status)) {
        changed = answerOpen(state, agent, e.seq, {
          by: `${agent} (${status.trim().toLowerCase()})`,
          at,
        }) || changed;
        prune(state);
      }
      return changed;
    }
    default:
      return false;
  }
}

/** One item of the "Needs you" list, every text field sanitised. */
export type NeedsYouItem = {
  /** Stable key: `approval-<id>`, `question-<seq>`, `waiting-<seq>`. */
  key: string;
  kind: "approval" | "question" | "needs_input";
  agent: string;
  /**
   * What an action names: the approval's id, the question's seq, the
   * wait's seq (null when the roster says `needs_input` but the log holds
   * no such status: Tell only).
   */
  ref: number | null;
  /** An approval's tool (`Bash`, `Edit`, …), else null. */
  tool: string | null;
  /** The command or path, the question, or what the agent waits for. */
  text: string;
  /** An approval's working dir, else null. */
  cwd: string | null;
  /** Why an approval waits for a person (the policy's word), else null. */
  why: string | null;
  /** `12s ago`. */
  age: string;
  /** `answered by web 5s ago` when someone answered a wait, else null. */
  answered: string | null;
};

/** Pending queue approvals, oldest first. */
export function pendingQueueApprovals(state: NeedsYouState): ApprovalRecord[] {
  return [...state.approvals.records.values()].filter((r) =>
    r.decision === null && r.mode === "queue"
  );
}

function ago(now: number, at: number): string {
  return `${formatDuration(now - at)} ago`;
}

/**
 * The list at `now`: approvals, then questions, then waiting agents, each
 * oldest first. `roster` is the broker's (it says who waits now).
 */
export function needsYouItems(
  state: NeedsYouState,
  roster: readonly AgentStatusEntry[],
  now: number,
): NeedsYouItem[] {
  const out: NeedsYouItem[] = [];
  const approving = new Set<string>();
  for (const r of pendingQueueApprovals(state)) {
    approving.add(r.agent);
    out.push({
      key: `approval-${r.id}`,
      kind: "approval",
      agent: oneLine(r.agent, 80),
      ref: r.id,
      tool: oneLine(r.tool, 60),
      text: oneLine(r.what, 2000),
      cwd: r.cwd === null ? null : oneLine(r.cwd, 400),
      why: r.why === null ? null : oneLine(r.why, 400),
      age: ago(now, r.requested_at),
      answered: null,
    });
  }
  const questions = [...state.questions.values()]
    .filter((q) => q.closed === null)
    .sort((a, b) => a.seq - b.seq);
  for (const q of questions) {
    out.push({
      key: `question-${q.seq}`,
      kind: "question",
      agent: oneLine(q.agent, 80),
      ref: q.seq,
      tool: null,
      text: oneLine(q.text, 2000),
      cwd: null,
      why: null,
      age: ago(now, q.at),
      answered: null,
    });
  }
  const waiting: NeedsYouItem[] = [];
  for (const a of roster) {
    if (a.status.trim().toLowerCase() !== NEEDS_INPUT) continue;
    if (approving.has(a.agent_id) || state.queueWaits.has(a.agent_id)) {
      continue;
    }
    const w = state.waits.get(a.agent_id);
    const since = w ? w.at : now - Math.max(0, a.last_seen_seconds);
    waiting.push({
      key: w ? `waiting-${w.seq}` : `waiting-${a.agent_id}`,
      kind: "needs_input",
      agent: oneLine(a.agent_id, 80),
      ref: w ? w.seq : null,
      tool: null,
      text: oneLine(
        w ? w.text : (a.summary || "waiting for a person"),
        2000,
      ),
      cwd: null,
      why: null,
      age: ago(now, since),
      answered: w?.closed
        ? `answered by ${oneLine(w.closed.by, 80)} ${ago(now, w.closed.at)}`
        : null,
    });
  }
  waiting.sort((a, b) => (a.ref ?? 0) - (b.ref ?? 0));
  return [...out, ...waiting];
}

/** What an answer is to, or why it cannot be sent. */
export type AnswerTarget =
  | { ok: true; kind: "question" | "needs_input"; ask: Ask }
  | { ok: false; status: 404 | 409; error: string };

/**
 * The open question or wait `ref` of `agent` an answer goes to. A closed
 * one is a 409 naming who answered it; an unknown one a 404.
 */
export function answerTarget(
  state: NeedsYouState,
  agent: string,
  ref: number,
): AnswerTarget {
  const q = state.questions.get(ref);
  if (q && q.agent === agent) {
    if (q.closed) {
      return {
        ok: false,
        status: 409,
        error: `question #${ref} of ${agent} was already answered (by ${
          oneLine(q.closed.by, 80)
        })`,
      };
    }
    return { ok: true, kind: "question", ask: q };
  }
  const w = state.waits.get(agent);
  if (w && w.seq === ref) {
    if (w.closed) {
      return {
        ok: false,
        status: 409,
        error: `${agent}'s wait #${ref} was already answered (by ${
          oneLine(w.closed.by, 80)
        })`,
      };
    }
    return { ok: true, kind: "needs_input", ask: w };
  }
  return {
    ok: false,
    status: ref <= state.lastSeq ? 409 : 404,
    error: ref <= state.lastSeq
      ? `${agent} no longer waits on #${ref} (it went on or was answered)`
      : `no question or wait #${ref} of ${agent}`,
  };
}

/**
 * Mark `ask` answered now, before the feedback is published (so a second
 * answer is refused at once); returns the undo for a failed publish.
 */
export function claimAnswer(
  ask: Ask,
  by: string,
  at: number,
): () => void {
  ask.closed = { by, at };
  return () => {
    ask.closed = null;
  };
}

function quote(s: string): string {
  return `"${oneLine(s, 200)}"`;
}

/** The feedback line an answer sends to the agent. */
export function answerText(
  kind: "question" | "needs_input",
  ask: Pick<Ask, "text">,
  text: string,
): string {
  const said = text.trim();
  return kind === "question"
    ? `Answer to your question ${quote(ask.text)}: ${said}`
    : `Answer while you wait (${quote(ask.text)}): ${said}`;
}

/** Longest answer or tell accepted (characters). */
export const MAX_WEB_TEXT = 8000;
