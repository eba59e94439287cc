/**
 * How often attention alerts reach the user (the tmux message, the bell,
 * the `[notify] command`), decided purely (time is passed in). Anyone who
 * can reach the broker can publish `agent.blocked` as any agent, so the
 * notifications are bounded whatever arrives:
 *
 * - at most one per agent and reason every `perCauseSeconds` (default 60)
 *   for the reasons a message causes (a stall is one per silence already);
 * - at most `maxPerMinute` (default 10) in any 60 s, all agents together;
 * - what is held back is counted, and once per `summarySeconds` (default
 *   60) after the first held one a single summary notice says how many and
 *   whose ({@link throttleSummary}).
 *
 * The dashboards' attention items are not affected: only the notifications
 * are.
 * @module
 */
import type { Alert } from "./dashboard_alerts.ts";

/** A summary of notifications held back, delivered like an alert. */
export type HeldSummary = {
  /** The one agent held back, or `*` when several were. */
  agent_id: string;
  reason: "suppressed";
  /** One line: how many, whose, over how long. */
  detail: string;
  seq: null;
  since: number;
};

/** What a notification sink is handed: an alert or a summary. */
export type Notice = Alert | HeldSummary;

/** Bounds of {@link createThrottle}. */
export type ThrottleOptions = {
  perCauseSeconds: number;
  maxPerMinute: number;
  summarySeconds: number;
};

/** Defaults: one per agent+reason a minute, 10 a minute in all. */
const DEFAULT_THROTTLE: ThrottleOptions = {
  perCauseSeconds: 60,
  maxPerMinute: 10,
  summarySeconds: 60,
};

/** Mutable throttle state; create with {@link createThrottle}. */
export type ThrottleState = {
  opts: ThrottleOptions;
  /** Last notification time per `agent\0reason`. */
  last: Map<string, number>;
  /** Times of the notifications sent in the last 60 s. */
  recent: number[];
  /** Held back since the last summary, per `agent\0reason`. */
  held: Map<string, number>;
  /** When the first of {@link held} was held back. */
  heldSince: number | null;
};

/** A fresh throttle (missing bounds take {@link DEFAULT_THROTTLE}'s). */
export function createThrottle(
  opts: Partial<ThrottleOptions> = {},
): ThrottleState {
  return {
    opts: { ...DEFAULT_THROTTLE, ...opts },
    last: new Map(),
    recent: [],
    held: new Map(),
    heldSince: null,
  };
}

const key = (a: Alert) => `${a.agent_id}\0${a.reason}`;

/**
 * May `alert` be sent now? True records it as sent; false counts it as
 * held back (for the next {@link throttleSummary}).
 */
export function throttleAlert(
  s: ThrottleState,
  alert: Alert,
  now: number,
): boolean {
  while (s.recent.length && now - s.recent[0]! >= 60) s.recent.shift();
  const k = key(alert);
  const prev = s.last.get(k);
  // A stall is already one per silence of at least the stall threshold.
  const tooSoon = alert.reason !== "stalled" && prev !== undefined &&
    now - prev < s.opts.perCauseSeconds;
  if (tooSoon || s.recent.length >= s.opts.maxPerMinute) {
    s.held.set(k, (s.held.get(k) ?? 0) + 1);
    s.heldSince ??= now;
    return false;
  }
  s.last.set(k, now);
  s.recent.push(now);
  // Many spoofed agents must not grow the map without bound.
  if (s.last.size > 1000) {
    for (const [k2, t] of s.last) {
      if (now - t >= s.opts.perCauseSeconds) s.last.delete(k2);
    }
  }
  return true;
}

/** When the next summary is due (unix seconds), or null when none is. */
export function nextSummaryAt(s: ThrottleState): number | null {
  return s.heldSince === null ? null : s.heldSince + s.opts.summarySeconds;
}

/**
 * The summary of what was held back, once it is due (then the count starts
 * over), else null.
 */
export function throttleSummary(
  s: ThrottleState,
  now: number,
): HeldSummary | null {
  const due = nextSummaryAt(s);
  if (due === null || now < due) return null;
  const entries = [...s.held].sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((n, [, c]) => n + c, 0);
  const agents = new Set(entries.map(([k]) => k.split("\0")[0]!));
  const parts = entries.slice(0, 3).map(([k, c]) => {
    const [agent, reason] = k.split("\0");
    return `${agent} ${reason} ×${c}`;
  });
  if (entries.length > 3) parts.push(`${entries.length - 3} more`);
  const secs = Math.round(now - s.heldSince!);
  s.held.clear();
  s.heldSince = null;
  return {
    agent_id: agents.size === 1 ? [...agents][0]! : "*",
    reason: "suppressed",
    detail: `${total} notification${
      total === 1 ? "" : "s"
    } held back in the last ${secs} s: ${parts.join(", ")}`,
    seq: null,
    since: now,
  };
}
