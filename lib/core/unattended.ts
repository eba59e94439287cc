/**
 * `git paw start --unattended`: the drive loop's decisions, made purely
 * (time is passed in). Each round the shell hands in the agents
 * (lib/core/agents_view.ts), their roster silence, the approval queue and
 * the new log entries; {@link unattendedStep} answers with what to do:
 *
 * - nudge a stalled agent ONCE per stall: silent (roster `last_seen`) for
 *   the stall threshold, not done or verified, no approval of it pending
 *   (the queue's timeout answers those). The next nudge needs a new
 *   silence: the agent must have been heard from since;
 * - notify each denial once (`denied:<agent>:<approval id>`), with the
 *   command, who denied and why;
 * - print a progress line for every change worth seeing;
 * - stop: `done` when every agent is done or verified, `budget` when the
 *   time budget is spent.
 *
 * {@link unattendedSummary} then says what each agent did, what was denied
 * and what is left; {@link summaryText} is its human form.
 * @module
 */
import type { AgentView } from "./agents_view.ts";
import { declaredFinished, waitingText } from "./agents_view.ts";
import type { ApprovalRecord } from "./approvals.ts";
import type { LogEntry } from "./broker_types.ts";
import type { RosterRow } from "./broker_state.ts";
import { oneLine } from "./dashboard_text.ts";
import { formatDuration } from "./duration.ts";

/** How an unattended run ended. */
export type UnattendedOutcome = "done" | "budget" | "ended";

/** Exit codes of `start --unattended` per outcome. */
export const UNATTENDED_EXIT: Readonly<Record<UnattendedOutcome, number>> = {
  done: 0,
  budget: 3,
  ended: 4,
};

/** Settings of a run. */
export type UnattendedOptions = {
  /** Silence (seconds) after which an agent is nudged. */
  stallSeconds: number;
  /** Unix seconds the run began. */
  startedAt: number;
  /** Unix seconds the budget ends, null for none. */
  deadline: number | null;
};

type Track = {
  /** Unix seconds the agent was last heard from (roster). */
  lastSeen: number;
  /** The lastSeen a nudge was sent for, or null. */
  nudgedFor: number | null;
  nudges: number;
  attention: string;
  status: string;
  /** Commits its artifacts reported (short ids, oldest first). */
  commits: string[];
  artifacts: number;
};

/** Mutable run state; create with {@link createUnattended}. */
export type UnattendedState = {
  opts: UnattendedOptions;
  agents: Map<string, Track>;
  /** Denied requests, by id. */
  denied: Map<number, ApprovalRecord>;
  /** Approval ids whose decision was already reported. */
  decided: Set<number>;
  /** Questions asked (agent, text), in order. */
  questions: Array<{ agent: string; question: string; seq: number }>;
};

/** A fresh run. */
export function createUnattended(opts: UnattendedOptions): UnattendedState {
  return {
    opts: { ...opts, stallSeconds: Math.max(1, opts.stallSeconds) },
    agents: new Map(),
    denied: new Map(),
    decided: new Set(),
    questions: [],
  };
}

/** What the shell does for one round. */
export type UnattendedAction =
  | { kind: "nudge"; agent: string; text: string; silentSeconds: number }
  | {
    kind: "notify";
    /** Stable cause name (sent once). */
    cause: string;
    agent: string;
    reason: "denied";
    detail: string;
    approval: number;
  }
  | { kind: "progress"; line: string };

/** One round's input. */
export type UnattendedInput = {
  agents: readonly AgentView[];
  roster: readonly RosterRow[];
  approvals: readonly ApprovalRecord[];
  /** Log entries since the last round, oldest first. */
  entries: readonly LogEntry[];
};

/** The text typed into (or queued for) a stalled agent. */
function nudgeText(silentSeconds: number): string {
  return `git-paw: no progress from you for ${
    formatDuration(silentSeconds)
  } and nobody is at this session to answer. Carry on with your task and decide open questions yourself; when the work is committed and finished, publish your status as done (git paw publish status done).`;
}

const FINISHED = new Set(["done", "verified"]);

/**
 * Finished: its attention is done or verified, or it said so itself and
 * nothing of it waits in the queue (its CLI's end of turn, or a dialog the
 * CLI shows after it, does not undo its word).
 */
export function agentFinished(a: AgentView): boolean {
  return FINISHED.has(a.attention) ||
    (declaredFinished(a) && a.waiting_for.approval === null);
}

/**
 * One round: feed what the shell read, get the actions and whether the run
 * is over.
 */
export function unattendedStep(
  s: UnattendedState,
  input: UnattendedInput,
  now: number,
): { actions: UnattendedAction[]; outcome: UnattendedOutcome | null } {
  const actions: UnattendedAction[] = [];
  const say = (line: string) => actions.push({ kind: "progress", line });
  const roster = new Map(input.roster.map((r) => [r.agent_id, r] as const));
  for (const e of input.entries) {
    const m = e.message;
    if (m.type === "agent.artifact" && m.payload.status === "committed") {
      const t = s.agents.get(m.agent_id);
      if (t) {
        t.artifacts++;
        if (m.payload.commit) t.commits.push(m.payload.commit.slice(0, 8));
      }
      say(
        `${m.agent_id} committed${
          m.payload.commit ? ` ${m.payload.commit.slice(0, 8)}` : ""
        }${
          m.payload.modified_files.length
            ? ` (${m.payload.modified_files.slice(0, 3).join(", ")})`
            : ""
        }`,
      );
    } else if (m.type === "agent.question") {
      s.questions.push({
        agent: m.agent_id,
        question: oneLine(m.payload.question, 300),
        seq: e.seq,
      });
      say(`${m.agent_id} asks: ${oneLine(m.payload.question, 200)}`);
    } else if (m.type === "agent.blocked") {
      say(
        `${m.agent_id} is blocked: needs ${
          oneLine(m.payload.needs, 120)
        } from ${m.payload.from}`,
      );
    }
  }
  for (const a of input.agents) {
    const r = roster.get(a.id);
    const lastSeen = r ? now - Math.max(0, r.last_seen_seconds) : null;
    let t = s.agents.get(a.id);
    if (!t) {
      t = {
        lastSeen: lastSeen ?? now,
        nudgedFor: null,
        nudges: 0,
        attention: a.attention,
        status: a.status,
        commits: [],
        artifacts: 0,
      };
      s.agents.set(a.id, t);
    }
    // Whole seconds on the roster: only clearly newer activity counts.
    if (lastSeen !== null && lastSeen > t.lastSeen + 1.5) {
      t.lastSeen = lastSeen;
    }
    if (a.attention !== t.attention || a.status !== t.status) {
      const wait = waitingText(a.waiting_for);
      say(
        `${a.id}: ${t.status || "-"} → ${a.status || "-"} (${a.attention}${
          wait ? `, waits for ${wait}` : ""
        })`,
      );
      t.attention = a.attention;
      t.status = a.status;
    }
    const silent = now - t.lastSeen;
    const stalled = !agentFinished(a) &&
      a.waiting_for.approval === null && silent >= s.opts.stallSeconds;
    if (stalled && t.nudgedFor !== t.lastSeen) {
      t.nudgedFor = t.lastSeen;
      t.nudges++;
      actions.push({
        kind: "nudge",
        agent: a.id,
        text: nudgeText(silent),
        silentSeconds: Math.floor(silent),
      });
    }
  }
  for (const r of input.approvals) {
    if (r.decision === null || r.mode !== "queue" || s.decided.has(r.id)) {
      continue;
    }
    s.decided.add(r.id);
    const d = r.decision;
    const what = `${r.tool}: ${oneLine(r.what, 160)}`;
    if (d.decision === "deny") {
      s.denied.set(r.id, r);
      const detail = `${what} — denied by ${d.by}${
        d.reason ? `: ${oneLine(d.reason, 160)}` : ""
      }`;
      say(`#${r.id} ${r.agent} ${detail}`);
      actions.push({
        kind: "notify",
        cause: `denied:${r.agent}:${r.id}`,
        agent: r.agent,
        reason: "denied",
        detail,
        approval: r.id,
      });
    } else if (d.decision === "allow" && !d.by.startsWith("policy")) {
      say(`#${r.id} ${r.agent} ${what} — allowed by ${d.by}`);
    }
  }
  const all = input.agents.length > 0 &&
    input.agents.every(agentFinished);
  if (all) return { actions, outcome: "done" };
  if (s.opts.deadline !== null && now >= s.opts.deadline) {
    return { actions, outcome: "budget" };
  }
  return { actions, outcome: null };
}

/** One agent in the summary. */
export type SummaryAgent = {
  id: string;
  branch: string;
  cli: string;
  status: string;
  attention: string;
  /** Commits on its branch the user's checkout lacks (`<short id> <subject>`). */
  commits: string[];
  /** Committed artifacts it reported. */
  artifacts: number;
  nudges: number;
  last_message: string | null;
};

/** The end of a run (`--json` prints it; the state dir keeps it). */
export type UnattendedSummary = {
  session: string;
  outcome: UnattendedOutcome;
  exit_code: number;
  /** Unix seconds. */
  started_at: number;
  ended_at: number;
  elapsed_seconds: number;
  max_minutes: number | null;
  agents: SummaryAgent[];
  denied: Array<
    {
      id: number;
      agent: string;
      tool: string;
      what: string;
      by: string;
      reason: string | null;
    }
  >;
  /** What is not finished: one line each. */
  left: string[];
  /** True when the session was left running. */
  session_running: boolean;
};

/** What {@link unattendedSummary} needs besides the run state. */
export type SummaryInput = {
  session: string;
  outcome: UnattendedOutcome;
  agents: readonly AgentView[];
  approvals: readonly ApprovalRecord[];
  /** Commits per agent id, from git (`<short id> <subject>`). */
  commits: ReadonlyMap<string, readonly string[]>;
  maxMinutes: number | null;
  sessionRunning: boolean;
};

/** The summary of a run that ended at `now`. */
export function unattendedSummary(
  s: UnattendedState,
  input: SummaryInput,
  now: number,
): UnattendedSummary {
  const left: string[] = [];
  for (const a of input.agents) {
    if (agentFinished(a)) continue;
    const wait = waitingText(a.waiting_for);
    left.push(
      `${a.id}: ${a.status || "no status"}${
        wait ? ` — waits for ${wait}` : ""
      }`,
    );
  }
  for (const r of input.approvals) {
    if (r.decision !== null || r.mode !== "queue") continue;
    left.push(
      `approval #${r.id} of ${r.agent} pending: ${r.tool}: ${
        oneLine(r.what, 120)
      }`,
    );
  }
  const denied = [...s.denied.values()].sort((a, b) => a.id - b.id).map((
    r,
  ) => ({
    id: r.id,
    agent: r.agent,
    tool: r.tool,
    what: r.what,
    by: r.decision?.by ?? "",
    reason: r.decision?.reason ?? null,
  }));
  return {
    session: input.session,
    outcome: input.outcome,
    exit_code: UNATTENDED_EXIT[input.outcome],
    started_at: s.opts.startedAt,
    ended_at: now,
    elapsed_seconds: Math.max(0, Math.round(now - s.opts.startedAt)),
    max_minutes: input.maxMinutes,
    agents: input.agents.map((a) => {
      const t = s.agents.get(a.id);
      return {
        id: a.id,
        branch: a.branch,
        cli: a.cli,
        status: declaredFinished(a) ? a.declared_status : a.status,
        attention: a.attention,
        commits: [...(input.commits.get(a.id) ?? [])],
        artifacts: t?.artifacts ?? 0,
        nudges: t?.nudges ?? 0,
        last_message: a.last_message
          ? `${a.last_message.type}: ${a.last_message.summary}`
          : null,
      };
    }),
    denied,
    left,
    session_running: input.sessionRunning,
  };
}

const OUTCOME_TEXT: Record<UnattendedOutcome, string> = {
  done: "every agent is done or verified",
  budget: "the time budget is spent",
  ended: "the session ended",
};

/** The summary as text. */
export function summaryText(sum: UnattendedSummary): string {
  const out: string[] = [];
  out.push(
    `Unattended run of '${sum.session}' ended after ${
      formatDuration(sum.elapsed_seconds, { precise: true })
    }: ${OUTCOME_TEXT[sum.outcome]}${
      sum.outcome === "budget" && sum.max_minutes !== null
        ? ` (${sum.max_minutes} min)`
        : ""
    }.`,
  );
  out.push("", "Agents:");
  for (const a of sum.agents) {
    out.push(
      `  ${a.id} (${a.cli}): ${
        a.status || "no status"
      } — ${a.commits.length} commit${
        a.commits.length === 1 ? "" : "s"
      }, ${a.artifacts} artifact${a.artifacts === 1 ? "" : "s"}${
        a.nudges ? `, nudged ${a.nudges}×` : ""
      }`,
    );
    for (const c of a.commits.slice(0, 10)) {
      out.push(`      ${oneLine(c, 100)}`);
    }
    if (a.commits.length > 10) {
      out.push(`      … ${a.commits.length - 10} more`);
    }
    if (a.last_message) out.push(`      last: ${oneLine(a.last_message, 100)}`);
  }
  out.push("", "Denied:");
  if (sum.denied.length === 0) out.push("  nothing");
  for (const d of sum.denied) {
    out.push(
      `  #${d.id} ${d.agent} ${d.tool}: ${oneLine(d.what, 100)} — by ${d.by}${
        d.reason ? `: ${oneLine(d.reason, 100)}` : ""
      }`,
    );
  }
  out.push("", "Left:");
  if (sum.left.length === 0) out.push("  nothing");
  for (const l of sum.left) out.push(`  ${l}`);
  out.push(
    "",
    sum.session_running
      ? `The session is still running: \`git paw agents\` to look, \`git paw stop\` to end it.`
      : "The session was stopped.",
  );
  return out.join("\n");
}
