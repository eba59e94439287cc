/**
 * Attention alerts, decided purely (time is passed in): an agent that
 * publishes `agent.blocked` or `agent.question`, whose CLI waits for a person
 * (`agent.status` `needs_input`, from its hooks or the screen detector), or
 * that stays silent past the stall threshold while its status is not
 * terminal, needs the user.
 *
 * Each alert fires ONCE per cause:
 * - every new `agent.blocked` / `agent.question` message (a new seq) is a new
 *   cause;
 * - `needs_input` is one cause per agent and what it waits for (its
 *   message): repeats of it (the hook after the screen detector, a
 *   re-publish) fire nothing until the agent has gone on;
 * - a stall is one cause per silence: it fires when the silence crosses the
 *   threshold and not again until the agent has been heard from again;
 * - every `approval.request` that waits in the queue (queue mode, its `why`
 *   set) is a cause, named with the exact `git paw approve <id>`; the
 *   hook's own `needs_input` for it (`detail.approval`) fires nothing more,
 *   and the item clears with the request's decision.
 *
 * Besides the fired alerts the state keeps the *active* attention items the
 * dashboards highlight. An item clears when its agent publishes anything
 * later (it has moved on), or, for a stall, when its status becomes terminal.
 * A `needs_input` item is not cleared by a bare file report (the watcher's
 * `working` status without a message): files changing says nothing about
 * the prompt the CLI shows.
 *
 * Terminal statuses (never "stalled"): `done`, `verified`, `committed`,
 * `merged` (case-insensitive). `blocked` is not terminal: a blocked agent
 * that is still silent after the threshold is reminded about once.
 * @module
 */
import type { AgentStatusEntry, LogEntry } from "./broker_types.ts";
import { speakerOf } from "./dashboard_summary.ts";
import { oneLine } from "./dashboard_text.ts";
import { formatDuration } from "./duration.ts";
import type { Notice } from "./notify_throttle.ts";

/** Why an agent needs attention. */
export type AlertReason =
  | "blocked"
  | "question"
  | "stalled"
  | "needs_input"
  | "approval";

/** The status an agent waiting for a person reports. */
export const NEEDS_INPUT = "needs_input";

/** Short word for a reason, as the dashboards show it (≤ 8 columns). */
export function reasonLabel(reason: AlertReason): string {
  return reason === "needs_input" ? "waiting" : reason;
}

function approvalDetail(id: number, tool: string, what: string): string {
  return oneLine(
    `${tool}: ${what} — git paw approve ${id} · git paw deny ${id} --reason …`,
    300,
  );
}

/** One attention item / fired alert. Text fields are sanitised. */
export type Alert = {
  agent_id: string;
  reason: AlertReason;
  /** One line: what is needed / asked, or how long it has been silent. */
  detail: string;
  /** The message that caused it (null for a stall). */
  seq: number | null;
  /** When the cause happened (unix seconds). */
  since: number;
};

/** Statuses after which silence is expected. */
const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  "done",
  "verified",
  "committed",
  "merged",
]);

/** True when `status` is terminal (see {@link TERMINAL_STATUSES}). */
export function isTerminalStatus(status: string): boolean {
  return TERMINAL_STATUSES.has(status.trim().toLowerCase());
}

type AgentTrack = {
  status: string;
  /** Last time we know the agent spoke (unix seconds). */
  lastActivity: number;
  /** lastActivity value a stall was already fired for, or null. */
  stallFiredFor: number | null;
};

/** Mutable decision state; create with {@link createAlertsState}. */
export type AlertsState = {
  thresholdSeconds: number;
  agents: Map<string, AgentTrack>;
  /** Active items per agent (by reason). */
  active: Map<string, Map<AlertReason, Alert>>;
  /** Highest seq already looked at (older entries are ignored). */
  lastSeq: number;
};

/** A fresh state with the given stall threshold (seconds, ≥ 1). */
export function createAlertsState(thresholdSeconds: number): AlertsState {
  return {
    thresholdSeconds: Math.max(1, thresholdSeconds),
    agents: new Map(),
    active: new Map(),
    lastSeq: 0,
  };
}

function track(state: AlertsState, id: string, at: number): AgentTrack {
  let t = state.agents.get(id);
  if (!t) {
    t = { status: "", lastActivity: at, stallFiredFor: null };
    state.agents.set(id, t);
  }
  return t;
}

function setActive(state: AlertsState, a: Alert): void {
  let m = state.active.get(a.agent_id);
  if (!m) state.active.set(a.agent_id, m = new Map());
  m.set(a.reason, a);
}

function clearActive(
  state: AlertsState,
  id: string,
  ...keep: (AlertReason | undefined)[]
) {
  const m = state.active.get(id);
  if (!m) return;
  for (const r of [...m.keys()]) if (!keep.includes(r)) m.delete(r);
  if (m.size === 0) state.active.delete(id);
}

/** The watcher's report of changed files: no message, no source. */
function fileReport(msg: LogEntry["message"]): boolean {
  return msg.type === "agent.status" && msg.payload.status === "working" &&
    !msg.payload.message && msg.payload.detail === undefined;
}

/**
 * Feed one log entry. Returns the alerts to fire now (empty when `fire` is
 * false, e.g. while catching up on history at start: such entries still
 * mark attention but ring nothing). Entries at or below the last seen seq
 * are ignored, so feeding the same entry twice never fires twice.
 */
export function alertsOnEntry(
  state: AlertsState,
  entry: LogEntry,
  opts: { fire: boolean } = { fire: true },
): Alert[] {
  if (entry.seq <= state.lastSeq) return [];
  state.lastSeq = entry.seq;
  const msg = entry.message;
  let speaker: string;
  try {
    speaker = speakerOf(msg);
  } catch {
    return [];
  }
  const at = entry.timestamp_unix_secs;
  const t = track(state, speaker, at);
  if (at >= t.lastActivity) t.lastActivity = at;
  t.stallFiredFor = null; // heard from again: a new silence may stall later
  let alert: Alert | null = null;
  if (msg.type === "agent.blocked") {
    alert = {
      agent_id: speaker,
      reason: "blocked",
      detail: oneLine(
        `needs ${msg.payload.needs} from ${msg.payload.from}`,
        300,
      ),
      seq: entry.seq,
      since: at,
    };
    t.status = "blocked";
  } else if (msg.type === "agent.question") {
    alert = {
      agent_id: speaker,
      reason: "question",
      detail: oneLine(msg.payload.question, 300),
      seq: entry.seq,
      since: at,
    };
  } else if (
    msg.type === "approval.request" && msg.payload.mode === "queue" &&
    msg.payload.why !== null
  ) {
    t.status = NEEDS_INPUT;
    alert = {
      agent_id: speaker,
      reason: "approval",
      detail: approvalDetail(entry.seq, msg.payload.tool, msg.payload.what),
      seq: entry.seq,
      since: at,
    };
  } else if (msg.type === "approval.request") {
    return []; // decided by the policy, or a pane prompt (needs_input says it)
  } else if (msg.type === "approval.decision") {
    const m = state.active.get(speaker);
    if (m?.get("approval")?.seq === msg.payload.request) {
      m.delete("approval");
      if (m.size === 0) state.active.delete(speaker);
    }
    return [];
  } else if (
    msg.type === "agent.status" && msg.payload.status === NEEDS_INPUT &&
    (msg.payload.detail as { approval?: unknown } | undefined)?.approval !==
      undefined
  ) {
    // The queue-mode hook saying it waits: the approval item says it all.
    t.status = NEEDS_INPUT;
    return [];
  } else if (
    msg.type === "agent.status" && msg.payload.status === NEEDS_INPUT
  ) {
    t.status = NEEDS_INPUT;
    const detail = oneLine(msg.payload.message ?? "waiting for a person", 300);
    const prev = state.active.get(speaker)?.get("needs_input");
    if (prev && prev.detail === detail) {
      // The same cause again: keep the item as it was, fire nothing.
      clearActive(state, speaker, "needs_input");
      return [];
    }
    alert = {
      agent_id: speaker,
      reason: "needs_input",
      detail,
      seq: entry.seq,
      since: at,
    };
  } else if (msg.type === "agent.status" || msg.type === "agent.artifact") {
    t.status = msg.payload.status;
  } else if (msg.type === "agent.intent") {
    t.status = "intent";
  }
  clearActive(
    state,
    speaker,
    alert?.reason,
    fileReport(msg) ? "needs_input" : undefined,
  );
  if (alert) {
    setActive(state, alert);
    if (opts.fire) return [alert];
  }
  return [];
}

/**
 * Feed a roster snapshot taken at `now`. Learns statuses and agents that
 * were active before we started watching; clears a stall whose agent is now
 * terminal. Fires nothing itself (stalls come from {@link alertsCheckStalls}).
 */
export function alertsOnRoster(
  state: AlertsState,
  agents: readonly AgentStatusEntry[],
  now: number,
): void {
  for (const a of agents) {
    const seen = now - Math.max(0, a.last_seen_seconds);
    const t = state.agents.get(a.agent_id);
    if (!t) {
      state.agents.set(a.agent_id, {
        status: a.status,
        lastActivity: seen,
        stallFiredFor: null,
      });
      continue;
    }
    t.status = a.status;
    // last_seen_seconds is whole seconds: only clearly newer activity counts.
    if (seen > t.lastActivity + 1.5) {
      t.lastActivity = seen;
      t.stallFiredFor = null;
      state.active.get(a.agent_id)?.delete("stalled");
      if (state.active.get(a.agent_id)?.size === 0) {
        state.active.delete(a.agent_id);
      }
    }
    if (isTerminalStatus(a.status)) {
      state.active.get(a.agent_id)?.delete("stalled");
      if (state.active.get(a.agent_id)?.size === 0) {
        state.active.delete(a.agent_id);
      }
    }
  }
}

function stallable(t: AgentTrack): boolean {
  // An agent waiting for a person already has its item.
  return t.status.trim() !== "" && !isTerminalStatus(t.status) &&
    t.status !== NEEDS_INPUT;
}

/** Fire a stall for every agent whose silence crossed the threshold. */
export function alertsCheckStalls(state: AlertsState, now: number): Alert[] {
  const out: Alert[] = [];
  for (const [id, t] of state.agents) {
    if (!stallable(t)) continue;
    if (t.stallFiredFor === t.lastActivity) continue;
    if (now - t.lastActivity < state.thresholdSeconds) continue;
    t.stallFiredFor = t.lastActivity;
    const a: Alert = {
      agent_id: id,
      reason: "stalled",
      detail: oneLine(
        `silent for ${
          formatDuration(now - t.lastActivity)
        } (status ${t.status})`,
        300,
      ),
      seq: null,
      since: t.lastActivity + state.thresholdSeconds,
    };
    setActive(state, a);
    out.push(a);
  }
  return out;
}

/**
 * Unix time of the next stall that could fire, or null when none can (so
 * the shell sets one timer for it instead of polling).
 */
export function nextStallDeadline(state: AlertsState): number | null {
  let next: number | null = null;
  for (const t of state.agents.values()) {
    if (!stallable(t) || t.stallFiredFor === t.lastActivity) continue;
    const d = t.lastActivity + state.thresholdSeconds;
    if (next === null || d < next) next = d;
  }
  return next;
}

/** Active attention items, oldest cause first. */
export function activeAlerts(state: AlertsState): Alert[] {
  const out: Alert[] = [];
  for (const m of state.active.values()) out.push(...m.values());
  return out.sort((a, b) =>
    a.since - b.since || a.agent_id.localeCompare(b.agent_id)
  );
}

/** One line naming the agent and the reason, for tmux / notifications. */
export function alertText(a: Alert | Notice): string {
  const id = oneLine(a.agent_id, 80);
  switch (a.reason) {
    case "suppressed":
      return `git-paw: ${a.detail}`;
    case "blocked":
      return `git-paw: ${id} is blocked — ${a.detail}`;
    case "question":
      return `git-paw: ${id} asks — ${a.detail}`;
    case "stalled":
      return `git-paw: ${id} stalled — ${a.detail}`;
    case "needs_input":
      return `git-paw: ${id} waits for you — ${a.detail}`;
    case "approval":
      return `git-paw: ${id} asks for approval — ${a.detail}`;
  }
}
