/**
 * Which notification causes were already sent, kept across restarts of the
 * dashboard (pane 0) so that a cause reaches `[notify] command` once: the
 * cause names of {@link alertCause} (`question:feat-a:12`,
 * `approval:feat-a:40`, `stalled:feat-a:1700000000`, `denied:feat-a:41`),
 * newest last, bounded. A stall's time is rebuilt from the roster's whole
 * seconds after a restart, so two stall causes of one agent less than
 * {@link STALL_SLACK_SECONDS} apart are the same cause. Pure.
 * @module
 */
import type { Alert } from "./dashboard_alerts.ts";

/** How many causes are kept (the oldest are forgotten first). */
export const MAX_SENT = 2000;

/** Stall times this close (seconds) name the same silence. */
const STALL_SLACK_SECONDS = 2;

/** The causes sent so far; create with {@link createSent}. */
export type SentCauses = { order: string[]; set: Set<string> };

/** A record of `causes` (oldest first). */
export function createSent(causes: readonly string[] = []): SentCauses {
  const s: SentCauses = { order: [], set: new Set() };
  for (const c of causes) markSent(s, c);
  return s;
}

/**
 * The stable name of an alert's cause: a message's seq for a question, a
 * block, a `needs_input` or an approval; the silence's start for a stall.
 *
 * @example
 * ```ts
 * import { alertCause } from "./notify_sent.ts";
 * alertCause({ agent_id: "a", reason: "question", detail: "?", seq: 7,
 *   since: 0 }, 300); // "question:a:7"
 * ```
 */
export function alertCause(a: Alert, thresholdSeconds: number): string {
  if (a.reason === "stalled" || a.seq === null) {
    return `${a.reason}:${a.agent_id}:${
      Math.round(a.since - thresholdSeconds)
    }`;
  }
  return `${a.reason}:${a.agent_id}:${a.seq}`;
}

const STALL = /^stalled:(.*):(-?\d+)$/;

/** True when `cause` (or, for a stall, one a moment apart) was sent. */
export function wasSent(s: SentCauses, cause: string): boolean {
  if (s.set.has(cause)) return true;
  const m = STALL.exec(cause);
  if (!m) return false;
  const t = Number(m[2]);
  for (let d = -STALL_SLACK_SECONDS; d <= STALL_SLACK_SECONDS; d++) {
    if (s.set.has(`stalled:${m[1]}:${t + d}`)) return true;
  }
  return false;
}

/** Record `cause` as sent (the oldest beyond {@link MAX_SENT} is dropped). */
export function markSent(s: SentCauses, cause: string): void {
  if (s.set.has(cause)) return;
  s.set.add(cause);
  s.order.push(cause);
  while (s.order.length > MAX_SENT) s.set.delete(s.order.shift()!);
}

/** The file text of a record: JSON `{"sent": [cause, …]}`. */
export function sentText(s: SentCauses): string {
  return JSON.stringify({ sent: s.order }) + "\n";
}

/** A record from its file text; null when the text is not one. */
export function parseSent(text: string): SentCauses | null {
  try {
    const v = JSON.parse(text) as { sent?: unknown };
    if (!Array.isArray(v?.sent)) return null;
    return createSent(v.sent.filter((c): c is string => typeof c === "string"));
  } catch {
    return null;
  }
}
