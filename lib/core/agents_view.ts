/**
 * `git paw agents`: one row per agent of a session — its branch, CLI,
 * roster status and what that means for a person (its *attention*), its
 * tmux pane, worktree, newest message and what it waits for (a pending
 * approval and the command that decides it, an open question, the agent it
 * is blocked on, a prompt on its screen). Built from the receipt, the
 * broker's roster, log and approval queue, and the session's panes. Pure:
 * time is passed in.
 * @module
 */
import type { LogEntry } from "./broker_types.ts";
import type { RosterRow } from "./broker_state.ts";
import type { ApprovalRecord } from "./approvals.ts";
import { approveCommand } from "./approvals.ts";
import { slugify } from "./slug.ts";
import { messageLine, speakerOf, subjectOf } from "./dashboard_summary.ts";
import { oneLine } from "./dashboard_text.ts";
import { formatDuration } from "./duration.ts";
import { CLI_EVENT_SOURCE, SCREEN_SOURCE } from "./cli_events.ts";

/** What an agent's state means for a person, most urgent first. */
export type Attention =
  | "needs_input"
  | "blocked"
  | "working"
  | "idle"
  | "done"
  | "verified";

/** The newest message about an agent. */
export type LastMessage = {
  seq: number;
  /** Message type (`agent.status`, …). */
  type: string;
  /** One sanitised line (the dashboards' summary). */
  summary: string;
  /** Unix seconds. */
  at: number;
  age_seconds: number;
};

/** A pending approval an agent waits for. */
export type WaitingApproval = {
  id: number;
  tool: string;
  what: string;
  /** The exact command that approves it. */
  command: string;
};

/** What an agent waits for (all null: nothing). */
export type WaitingFor = {
  approval: WaitingApproval | null;
  /** Its open question (no answer, no later word from it). */
  question: string | null;
  /** `needs X from Y` while its status is `blocked`. */
  blocked_on: string | null;
  /** What its CLI waits for at a prompt (`needs_input` status message). */
  prompt: string | null;
};

/** One row of `git paw agents --json` (a stable shape). */
export type AgentView = {
  id: string;
  branch: string;
  cli: string;
  /** Roster status (`""` before the agent's first word). */
  status: string;
  /**
   * The status the agent itself last reported (`git paw publish status`,
   * an artifact), not its CLI's hooks, the screen detector or the
   * watcher's file reports; `""` when none is in the log read. A `done`
   * stays visible here when the CLI's end of turn (`idle`) or a dialog
   * after it (`needs_input`) replaced it on the roster.
   */
  declared_status: string;
  attention: Attention;
  /** tmux pane id (`%3`), null when the pane is gone. */
  pane: string | null;
  worktree: string;
  last_message: LastMessage | null;
  waiting_for: WaitingFor;
};

/** What {@link agentsView} is built from. */
export type AgentsViewInput = {
  /** The receipt's agents. */
  worktrees: ReadonlyArray<
    { branch: string; worktree_path: string; cli: string }
  >;
  roster: readonly RosterRow[];
  /** Recent log entries, oldest first. */
  log: readonly LogEntry[];
  approvals: readonly ApprovalRecord[];
  /** Pane id per agent id. */
  panes: ReadonlyMap<string, string>;
};

/** The watcher's bare file report: no message, no source. */
function fileReport(e: LogEntry): boolean {
  const m = e.message;
  return m.type === "agent.status" && m.payload.status === "working" &&
    !m.payload.message && m.payload.detail === undefined;
}

/** A status a CLI's hook or the screen detector published. */
function cliReport(e: LogEntry): boolean {
  const m = e.message;
  if (m.type !== "agent.status") return false;
  const src = (m.payload.detail as { source?: unknown } | undefined)?.source;
  return src === CLI_EVENT_SOURCE || src === SCREEN_SOURCE;
}

/** True when the agent itself said its work is done or verified. */
export function declaredFinished(a: AgentView): boolean {
  const s = attentionOf(a.declared_status);
  return s === "done" || s === "verified";
}

/** Attention of a roster status alone (no approval, question or prompt). */
export function attentionOf(status: string): Attention {
  const s = status.trim().toLowerCase();
  if (s === "needs_input") return "needs_input";
  if (s === "blocked") return "blocked";
  if (s === "verified") return "verified";
  if (s === "done" || s === "merged") return "done";
  // Nothing in flight: the CLI ended its turn, or the work is committed.
  if (s === "idle" || s === "committed") return "idle";
  return "working";
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/**
 * The agents of a session, sorted by id.
 *
 * @example
 * ```ts
 * import { agentsView } from "./agents_view.ts";
 * agentsView({
 *   worktrees: [{ branch: "feat/a", worktree_path: "/w/a", cli: "demo" }],
 *   roster: [], log: [], approvals: [], panes: new Map([["feat-a", "%1"]]),
 * }, 0)[0]!.pane; // "%1"
 * ```
 */
export function agentsView(input: AgentsViewInput, now: number): AgentView[] {
  const roster = new Map(input.roster.map((r) => [r.agent_id, r] as const));
  const rows: AgentView[] = [];
  for (const w of input.worktrees) {
    const id = slugify(w.branch);
    const r = roster.get(id);
    const status = r?.status ?? "";
    let last: LogEntry | null = null;
    let question: string | null = null;
    let blockedOn: string | null = null;
    let prompt: string | null = null;
    let declared = "";
    for (const e of input.log) {
      const subject = safe(() => subjectOf(e.message));
      const speaker = safe(() => speakerOf(e.message));
      if (subject === id) last = e;
      const m = e.message;
      if (speaker === id && !fileReport(e)) {
        // Its own word: a new question, or anything that moves it on.
        question = m.type === "agent.question"
          ? oneLine(m.payload.question, 300)
          : null;
        if (m.type === "agent.blocked") {
          blockedOn = oneLine(
            `needs ${m.payload.needs} from ${m.payload.from}`,
            300,
          );
        } else if (
          m.type !== "approval.request" && m.type !== "approval.decision"
        ) blockedOn = null;
        if (
          (m.type === "agent.status" || m.type === "agent.artifact") &&
          !cliReport(e)
        ) declared = m.payload.status;
        if (m.type === "agent.status" && m.payload.status === "needs_input") {
          prompt = oneLine(m.payload.message ?? "waiting for a person", 300);
        } else if (m.type === "agent.status") prompt = null;
      } else if (m.type === "agent.feedback" && subject === id) {
        question = null; // an answer came
      }
    }
    const pending = input.approvals.filter((a) =>
      a.agent === id && a.decision === null && a.mode === "queue"
    ).at(-1);
    const approval: WaitingApproval | null = pending
      ? {
        id: pending.id,
        tool: pending.tool,
        what: pending.what,
        command: approveCommand(pending.id),
      }
      : null;
    if (status !== "needs_input") prompt = null;
    if (status !== "blocked") blockedOn = null;
    let attention = attentionOf(status);
    const said = attentionOf(declared);
    // The CLI's end of turn after the agent said it is done.
    if (attention === "idle" && (said === "done" || said === "verified")) {
      attention = said;
    }
    if (approval || question || prompt) attention = "needs_input";
    const line = last ? messageLine(last) : null;
    rows.push({
      id,
      branch: w.branch,
      cli: r?.cli || w.cli,
      status,
      declared_status: declared,
      attention,
      pane: input.panes.get(id) ?? null,
      worktree: w.worktree_path,
      last_message: last && line
        ? {
          seq: last.seq,
          type: last.message.type,
          summary: line.text,
          at: last.timestamp_unix_secs,
          age_seconds: Math.max(0, Math.floor(now - last.timestamp_unix_secs)),
        }
        : null,
      waiting_for: {
        approval,
        question,
        blocked_on: blockedOn,
        prompt: approval ? null : prompt,
      },
    });
  }
  return rows.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** One line saying what an agent waits for, or null. */
export function waitingText(w: WaitingFor): string | null {
  if (w.approval) {
    return `approval #${w.approval.id}: ${w.approval.tool}: ${
      oneLine(w.approval.what, 120)
    } — ${w.approval.command}`;
  }
  if (w.prompt) return `a prompt: ${w.prompt}`;
  if (w.question) return `an answer: ${w.question}`;
  if (w.blocked_on) return w.blocked_on;
  return null;
}

/** Text styling applied by {@link agentsTable} (identity when colour is off). */
export type TableStyle = {
  attention: (a: Attention, text: string) => string;
  dim: (text: string) => string;
};

const PLAIN: TableStyle = { attention: (_a, t) => t, dim: (t) => t };

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

/**
 * The human table of `git paw agents`: `AGENT CLI ATTENTION STATUS PANE
 * LAST MESSAGE`, then per agent the worktree and (when it waits) a
 * `waits for:` line. A sentence when there are no agents.
 */
export function agentsTable(
  rows: readonly AgentView[],
  session: string,
  style: TableStyle = PLAIN,
): string {
  if (rows.length === 0) return `no agents in session '${session}'`;
  const cells = rows.map((r) => [
    r.id,
    r.cli,
    r.attention,
    r.status || "-",
    r.pane ?? "-",
    r.last_message
      ? `${r.last_message.type.replace(/^agent\./, "")} ${
        formatDuration(r.last_message.age_seconds)
      } ago: ${oneLine(r.last_message.summary, 60)}`
      : "-",
  ]);
  const head = ["AGENT", "CLI", "ATTENTION", "STATUS", "PANE", "LAST MESSAGE"];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...cells.map((c) => c[i]!.length))
  );
  const out = [
    head.map((h, i) => i === head.length - 1 ? h : pad(h, widths[i]!)).join(
      "  ",
    ),
  ];
  const indent = " ".repeat(widths[0]! + 2);
  rows.forEach((r, k) => {
    const c = cells[k]!;
    out.push(
      c.map((v, i) => {
        const text = i === c.length - 1 ? v : pad(v, widths[i]!);
        return i === 2 ? style.attention(r.attention, text) : text;
      }).join("  "),
    );
    out.push(style.dim(`${indent}worktree: ${r.worktree}`));
    const w = waitingText(r.waiting_for);
    if (w) out.push(`${indent}waits for: ${w}`);
  });
  return out.join("\n");
}
