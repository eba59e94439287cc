/**
 * The approval queue and its audit, rebuilt from the broker's log: each
 * `approval.request` (its seq is the approval's id) and the first
 * `approval.decision` for it (a decision applies once: later ones are
 * ignored here and refused with 409 by the routes). Plus the text and
 * JSON views of `git paw approvals` (`--patterns`: the original's grouped
 * view with allowlist suggestions). Pure.
 * @module
 */
import type {
  ApprovalDecisionMessage,
  ApprovalRequestMessage,
  BrokerMessage,
} from "./messages.ts";

/** One decision of an approval. */
export type ApprovalDecision = {
  decision: "allow" | "deny" | "pane";
  /** Who or which rule decided. */
  by: string;
  reason: string | null;
  /** Unix seconds. */
  at: number;
};

/** One approval request and its decision (null while pending). */
export type ApprovalRecord = {
  id: number;
  agent: string;
  cli: string | null;
  tool: string;
  what: string;
  cwd: string | null;
  mode: "queue" | "pane";
  why: string | null;
  /** Unix seconds. */
  requested_at: number;
  decision: ApprovalDecision | null;
};

/** Every approval known, by id (ascending). */
export type ApprovalsState = { records: Map<number, ApprovalRecord> };

/** An empty state. */
export function createApprovalsState(): ApprovalsState {
  return { records: new Map() };
}

/** A log entry as the broker hands it out. */
export type ApprovalLogEntry = {
  seq: number;
  timestamp_unix_secs: number;
  message: BrokerMessage;
};

/**
 * Apply one log entry; returns the record it created or decided, or null
 * when it changed nothing (another type, a repeat, a late decision).
 */
export function applyApprovalEntry(
  state: ApprovalsState,
  e: ApprovalLogEntry,
): ApprovalRecord | null {
  const m = e.message;
  if (m.type === "approval.request") {
    if (state.records.has(e.seq)) return null;
    const r = requestRecord(e.seq, e.timestamp_unix_secs, m);
    state.records.set(e.seq, r);
    return r;
  }
  if (m.type === "approval.decision") {
    return decide(state, m, e.timestamp_unix_secs)
      ? state.records.get(m.payload.request)!
      : null;
  }
  return null;
}

function requestRecord(
  id: number,
  at: number,
  m: ApprovalRequestMessage,
): ApprovalRecord {
  const p = m.payload;
  return {
    id,
    agent: m.agent_id,
    cli: p.cli,
    tool: p.tool,
    what: p.what,
    cwd: p.cwd,
    mode: p.mode,
    why: p.why,
    requested_at: at,
    decision: null,
  };
}

/** Record a decision unless the request is unknown or decided. */
export function decide(
  state: ApprovalsState,
  m: ApprovalDecisionMessage,
  atSecs: number,
): boolean {
  const r = state.records.get(m.payload.request);
  if (!r || r.decision) return false;
  r.decision = {
    decision: m.payload.decision,
    by: m.payload.by,
    reason: m.payload.reason,
    at: atSecs,
  };
  return true;
}

/** Pending requests (oldest first). */
export function pendingApprovals(state: ApprovalsState): ApprovalRecord[] {
  return [...state.records.values()].filter((r) => r.decision === null);
}

/** The open pane-mode request of an agent, if any. */
export function openPaneRequest(
  state: ApprovalsState,
  agent: string,
): ApprovalRecord | null {
  let found: ApprovalRecord | null = null;
  for (const r of state.records.values()) {
    if (r.agent === agent && r.mode === "pane" && r.decision === null) {
      found = r;
    }
  }
  return found;
}

/** The `approval.decision` message for a record. */
export function decisionMessage(
  r: Pick<ApprovalRecord, "id" | "agent">,
  d: { decision: "allow" | "deny" | "pane"; by: string; reason: string | null },
): ApprovalDecisionMessage {
  return {
    type: "approval.decision",
    agent_id: r.agent,
    payload: {
      request: r.id,
      decision: d.decision,
      by: d.by,
      reason: d.reason,
    },
  };
}

/** The reason a timed-out request is denied with. */
export function timeoutReason(seconds: number): string {
  return `no decision within ${seconds} s`;
}

/** The command that approves `id` (notifications, the TUI, the web page). */
function approveCommand(id: number): string {
  return `git paw approve ${id}`;
}

function clock(unixSecs: number): string {
  const d = new Date(unixSecs * 1000);
  return Number.isNaN(d.getTime())
    ? "?"
    : d.toISOString().replace("T", " ").slice(0, 19);
}

function cut(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** One audit line of a record (`git paw approvals`). */
function auditLine(r: ApprovalRecord): string {
  const what = `${r.tool}: ${cut(r.what, 80)}`;
  const head = `#${r.id}  ${clock(r.requested_at)}  ${r.agent}  ${what}`;
  if (!r.decision) {
    return `${head}\n    pending${r.why ? ` (${r.why})` : ""} — ${
      approveCommand(r.id)
    } | git paw deny ${r.id} --reason …`;
  }
  const d = r.decision;
  const verb = d.decision === "allow"
    ? "allowed"
    : d.decision === "deny"
    ? "denied"
    : "answered in the pane";
  return `${head}\n    ${verb} by ${d.by} at ${clock(d.at)}${
    d.reason ? ` — ${cut(d.reason, 120)}` : ""
  }`;
}

/** The audit as text (newest last); a sentence when there is nothing. */
export function auditText(
  records: readonly ApprovalRecord[],
  session: string,
  pendingOnly: boolean,
): string {
  if (records.length === 0) {
    return pendingOnly
      ? `no pending approvals in session '${session}'`
      : `no approvals recorded for session '${session}'`;
  }
  return records.map(auditLine).join("\n");
}

/** One row of the grouped view (SPEC §13 `approvals`). */
export type PatternRow = {
  pattern: string;
  count: number;
  suggested_target: "project-allowlist" | "bundled-preset";
  first_seen: string;
  last_seen: string;
};

/**
 * The allowlist pattern a request suggests: the program and its
 * subcommand (`npm install *`, `cargo test *`) for a command, the path for
 * a write.
 */
function suggestedPattern(
  r: Pick<ApprovalRecord, "tool" | "what">,
): string {
  const words = r.what.trim().split(/\s+/).filter((w) => w !== "");
  if (words.length === 0) return r.tool;
  if (/^\/|^\.{0,2}\//.test(words[0]!) && words.length === 1) return words[0]!;
  const head = [words[0]!];
  if (words[1] !== undefined && /^[A-Za-z][\w:.-]*$/.test(words[1])) {
    head.push(words[1]);
  }
  return words.length > head.length ? `${head.join(" ")} *` : head.join(" ");
}

/**
 * Group requests a person had to decide (not the policy) by suggested
 * pattern: count descending, then pattern; a `./` token or the project's
 * name in the pattern suggests the project allowlist, else a bundled
 * preset.
 */
export function patternRows(
  records: readonly ApprovalRecord[],
  project: string,
  limit = Infinity,
): PatternRow[] {
  const groups = new Map<
    string,
    { count: number; first: number; last: number }
  >();
  for (const r of records) {
    if (
      r.decision?.by.startsWith("policy") ||
      r.decision?.by === "git-paw's own command"
    ) continue;
    const p = suggestedPattern(r);
    const g = groups.get(p);
    if (g) {
      g.count++;
      g.first = Math.min(g.first, r.requested_at);
      g.last = Math.max(g.last, r.requested_at);
    } else {groups.set(p, {
        count: 1,
        first: r.requested_at,
        last: r.requested_at,
      });}
  }
  const iso = (s: number) => new Date(s * 1000).toISOString();
  return [...groups.entries()]
    .sort((a, b) =>
      b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    )
    .slice(0, limit)
    .map(([pattern, g]) => ({
      pattern,
      count: g.count,
      suggested_target: pattern.split(/\s+/).some((t) => t.startsWith("./")) ||
          (project !== "" && pattern.includes(project))
        ? "project-allowlist"
        : "bundled-preset",
      first_seen: iso(g.first),
      last_seen: iso(g.last),
    }));
}

/** The grouped view as a text table. */
export function patternsText(
  rows: readonly PatternRow[],
  session: string,
): string {
  if (rows.length === 0) {
    return `no manual approvals recorded for session '${session}'`;
  }
  const w = Math.max("PATTERN".length, ...rows.map((r) => r.pattern.length));
  const label = (t: PatternRow["suggested_target"]) =>
    t === "project-allowlist"
      ? "project allowlist"
      : "bundled preset candidate";
  return [
    `${"PATTERN".padEnd(w)}  COUNT  SUGGEST`,
    ...rows.map((r) =>
      `${r.pattern.padEnd(w)}  ${String(r.count).padStart(5)}  ${
        label(r.suggested_target)
      }`
    ),
  ].join("\n");
}

/** In-process access to a broker's approval queue (the TUI in pane 0). */
export type ApprovalsHandle = {
  /** Ids of the pending approvals. */
  pending(): Set<number>;
  /** Decide like the routes do; the error text when it cannot. */
  decide(
    id: number,
    d: { decision: "allow" | "deny"; by: string; reason: string | null },
  ): Promise<string | null>;
};

const handles = new WeakMap<object, ApprovalsHandle>();

/** Register the queue the approvals plugin runs for `broker`; unregister. */
export function registerApprovals(
  broker: object,
  h: ApprovalsHandle,
): () => void {
  handles.set(broker, h);
  return () => {
    if (handles.get(broker) === h) handles.delete(broker);
  };
}

/** The approval queue running in `broker`'s process, if any. */
export function approvalsFor(broker: object): ApprovalsHandle | undefined {
  return handles.get(broker);
}
