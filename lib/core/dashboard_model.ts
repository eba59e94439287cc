/**
 * The dashboard's view model (docs/REFERENCE.md, "Dashboard"): agent rows with a one-line summary
 * from each agent's last message, the broker message ring buffer with filter
 * chips and selection, the JSON overlay, and key handling. Pure: time is
 * passed in; the functions update the state in place and say whether the
 * view changed, so the shell redraws only on change.
 * @module
 */
import type { AgentStatusEntry, LogEntry } from "./broker_types.ts";
import { MESSAGE_TYPES, type MessageType } from "./messages.ts";
import { SUPERVISOR_ID } from "./slug.ts";
import {
  type MessageLine,
  messageLine,
  messageSubject,
  shortType,
} from "./dashboard_summary.ts";
import { oneLine } from "./dashboard_text.ts";
import { formatDuration } from "./duration.ts";
import {
  type Alert,
  type AlertReason,
  NEEDS_INPUT,
  reasonLabel,
} from "./dashboard_alerts.ts";

/** A summary derived from the newest message about an agent. */
type AgentSummary = { seq: number; text: string };

/** A ring-buffered message with its row text (computed once). */
export type PanelEntry = MessageLine & { entry: LogEntry };

/** Mutable view state; create with {@link createDashboardState}. */
export type DashboardState = {
  session: string;
  url: string;
  maxMessages: number;
  /** Roster snapshot and when it was taken (unix seconds). */
  roster: AgentStatusEntry[];
  rosterAt: number;
  summaries: Map<string, AgentSummary>;
  /** Oldest first; at most maxMessages. */
  panel: PanelEntry[];
  logVisible: boolean;
  /** Chip filter; empty = All. */
  chips: Set<MessageType>;
  /** Selected entry seq in the filtered panel; null = the newest. */
  selectedSeq: number | null;
  overlay: boolean;
  /** First JSON line shown in the overlay (PgUp/PgDn scroll it). */
  overlayScroll: number;
  attention: Alert[];
  /** Broker connection trouble to show, or null. */
  notice: string | null;
  /** Each agent's `PORT` (from the receipt), by agent id. */
  ports: ReadonlyMap<string, number>;
  /** The integration lane's one-line status, or null (lane off). */
  integration: string | null;
};

/** Options for {@link createDashboardState}. */
export type DashboardStateOptions = {
  session: string;
  url: string;
  maxMessages: number;
  logVisible: boolean;
};

/** A fresh, empty view state. */
export function createDashboardState(
  opts: DashboardStateOptions,
): DashboardState {
  return {
    session: opts.session,
    url: opts.url,
    maxMessages: Math.max(1, opts.maxMessages),
    roster: [],
    rosterAt: 0,
    summaries: new Map(),
    panel: [],
    logVisible: opts.logVisible,
    chips: new Set(),
    selectedSeq: null,
    overlay: false,
    overlayScroll: 0,
    attention: [],
    notice: null,
    ports: new Map(),
    integration: null,
  };
}

/**
 * Add a log entry: ring buffer (oldest dropped past max_messages) and the
 * subject's summary. Entries already seen (seq not newer) are ignored.
 * @returns true when the view changed
 */
export function applyEntry(state: DashboardState, entry: LogEntry): boolean {
  const last = state.panel[state.panel.length - 1];
  if (last && entry.seq <= last.entry.seq) return false;
  const line = messageLine(entry);
  const { id, text } = line;
  state.panel.push({ ...line, entry });
  if (state.panel.length > state.maxMessages) {
    state.panel.splice(0, state.panel.length - state.maxMessages);
  }
  setSummary(state, id, entry.seq, text);
  dropLostSelection(state);
  return true;
}

/**
 * {@link applyEntry} for many entries in seq order, with the same result,
 * but row text is computed only for the rows that stay in the panel and a
 * summary only for each subject's newest entry (a burst of 30,000 entries
 * into a 500-row panel formats 500 rows plus one summary per agent).
 * @returns true if anything was added
 */
export function applyEntries(
  state: DashboardState,
  entries: readonly LogEntry[],
): boolean {
  const last = state.panel[state.panel.length - 1];
  let from = 0;
  if (last) {
    while (from < entries.length && entries[from]!.seq <= last.entry.seq) {
      from++;
    }
  }
  if (from >= entries.length) return false;
  const firstKept = Math.max(from, entries.length - state.maxMessages);
  const summarised = new Set<string>();
  const rows: PanelEntry[] = [];
  for (let i = firstKept; i < entries.length; i++) {
    const entry = entries[i]!;
    const line = messageLine(entry);
    rows.push({ ...line, entry });
    setSummary(state, line.id, entry.seq, line.text);
    summarised.add(line.id);
  }
  // Entries that leave the panel at once still feed their subject's summary
  // when nothing newer about it came: the newest of each, found backwards.
  for (let i = firstKept - 1; i >= from; i--) {
    const entry = entries[i]!;
    const id = messageSubject(entry);
    if (summarised.has(id)) continue;
    summarised.add(id);
    setSummary(state, id, entry.seq, messageLine(entry).text);
  }
  const keepOld = Math.max(0, state.maxMessages - rows.length);
  state.panel = keepOld === 0
    ? rows
    : state.panel.slice(Math.max(0, state.panel.length - keepOld)).concat(
      rows,
    );
  dropLostSelection(state);
  return true;
}

/** Forget the selected message once it has left the panel. */
function dropLostSelection(state: DashboardState): void {
  if (
    state.selectedSeq !== null &&
    !state.panel.some((p) => p.entry.seq === state.selectedSeq)
  ) state.selectedSeq = null;
}

function setSummary(
  state: DashboardState,
  id: string,
  seq: number,
  text: string,
): void {
  const prev = state.summaries.get(id);
  if (!prev || prev.seq < seq) state.summaries.set(id, { seq, text });
}

/** Replace the roster snapshot taken at `now`. @returns true if changed */
export function applyRoster(
  state: DashboardState,
  roster: readonly AgentStatusEntry[],
  now: number,
): boolean {
  const changed = roster.length !== state.roster.length ||
    roster.some((a, i) => {
      const b = state.roster[i]!;
      return a.agent_id !== b.agent_id || a.status !== b.status ||
        a.cli !== b.cli || a.phase !== b.phase || a.summary !== b.summary ||
        Math.abs(
            (now - a.last_seen_seconds) -
              (state.rosterAt - b.last_seen_seconds),
          ) >= 1;
    });
  state.roster = roster.map((a) => ({ ...a }));
  state.rosterAt = now;
  return changed;
}

/** Replace the attention items. @returns true if changed */
export function applyAttention(
  state: DashboardState,
  items: readonly Alert[],
): boolean {
  const key = (a: Alert) => `${a.agent_id}\0${a.reason}\0${a.seq}\0${a.since}`;
  const changed = items.length !== state.attention.length ||
    items.some((a, i) => key(a) !== key(state.attention[i]!));
  state.attention = [...items];
  return changed;
}

/** The colour class of a status: what its symbol and the web dot show. */
export type StatusTone =
  | "working"
  | "done"
  | "committed"
  | "blocked"
  | "waiting"
  | "other";

/** Tone of a status label. */
export function statusTone(label: string): StatusTone {
  switch (label.trim().toLowerCase()) {
    case "working":
      return "working";
    case "done":
    case "verified":
      return "done";
    case "committed":
      return "committed";
    case "blocked":
      return "blocked";
    case NEEDS_INPUT:
      return "waiting";
    default:
      return "other";
  }
}

const TONE_SYMBOL: Record<StatusTone, string> = {
  working: "🔵",
  done: "🟢",
  committed: "🟣",
  blocked: "🟡",
  waiting: "🟠",
  other: "⚪",
};

/** Status symbol by label (docs/REFERENCE.md, "Dashboard"). */
export function statusSymbol(label: string): string {
  return TONE_SYMBOL[statusTone(label)];
}

/** One agent table row, every text field sanitised. */
export type AgentRow = {
  id: string;
  cli: string;
  symbol: string;
  tone: StatusTone;
  label: string;
  age: string;
  summary: string;
  attention: boolean;
  supervisor: boolean;
  /** The agent's `PORT`, `""` when it has none. */
  port: string;
};

/** Agent rows: supervisor first, then by id. */
export function agentRows(state: DashboardState, now: number): AgentRow[] {
  const flagged = new Set(state.attention.map((a) => a.agent_id));
  const rows = state.roster.map((a): AgentRow => {
    const supervisor = a.agent_id === SUPERVISOR_ID;
    const phase = a.phase ?? "";
    const label = (supervisor && phase) || phase === "stuck-on-prompt"
      ? phase
      : a.status;
    const id = oneLine(a.agent_id, 80);
    const seen = state.rosterAt - a.last_seen_seconds;
    return {
      id,
      cli: oneLine(a.cli, 40) || "?",
      symbol: statusSymbol(a.status),
      tone: statusTone(a.status),
      label: oneLine(label, 60) || "?",
      age: `${formatDuration(now - seen)} ago`,
      summary: state.summaries.get(id)?.text ?? oneLine(a.summary ?? "", 400),
      attention: flagged.has(a.agent_id),
      supervisor,
      port: String(state.ports.get(a.agent_id) ?? ""),
    };
  });
  return rows.sort((a, b) =>
    a.supervisor !== b.supervisor
      ? (a.supervisor ? -1 : 1)
      : a.id < b.id
      ? -1
      : a.id > b.id
      ? 1
      : 0
  );
}

/** One "needs attention" item as the dashboards show it, sanitised. */
export type AttentionRow = {
  id: string;
  reason: AlertReason;
  /** The reason as shown: {@link reasonLabel}. */
  why: string;
  /** How long ago the cause happened: `12s ago`. */
  age: string;
  detail: string;
};

/** The attention items at `now`, oldest cause first. */
export function attentionRows(
  state: DashboardState,
  now: number,
): AttentionRow[] {
  return state.attention.map((a) => ({
    id: oneLine(a.agent_id, 80),
    reason: a.reason,
    why: reasonLabel(a.reason),
    age: `${formatDuration(now - a.since)} ago`,
    detail: a.detail,
  }));
}

/**
 * Everything the web page shows besides the message stream, as text: the
 * page renders it and derives nothing itself.
 */
export type DashboardView = {
  session: string;
  /** {@link statusLine}. */
  counts: string;
  agents: AgentRow[];
  attention: AttentionRow[];
};

/** The view at `now` (see {@link DashboardView}). */
export function dashboardView(
  state: DashboardState,
  now: number,
): DashboardView {
  return {
    session: state.session,
    counts: statusLine(state),
    agents: agentRows(state, now),
    attention: attentionRows(state, now),
  };
}

/** Status line counts: `<n> agents: <w> working, <d> done, …`. */
export function statusLine(state: DashboardState): string {
  let w = 0, d = 0, b = 0, c = 0, n2 = 0;
  for (const a of state.roster) {
    const s = a.status.trim().toLowerCase();
    if (s === NEEDS_INPUT) n2++;
    else if (s === "working") w++;
    else if (s === "done" || s === "verified") d++;
    else if (s === "blocked") b++;
    else if (s === "committed") c++;
  }
  const n = state.roster.length;
  let line = `${n} agent${
    n === 1 ? "" : "s"
  }: ${w} working, ${d} done, ${b} blocked, ${c} committed`;
  if (n2 > 0) line += `, ${n2} waiting for you`;
  if (!state.logVisible) line += "  ·  broker log hidden — press l to show";
  return line;
}

/** Chip labels in order: `All` then the 10 types (keys 1–9, 0). */
export function chipLabels(): string[] {
  return ["All", ...MESSAGE_TYPES.map(shortType)];
}

/** The filtered panel, newest first. */
export function visibleEntries(state: DashboardState): PanelEntry[] {
  const out: PanelEntry[] = [];
  for (let i = state.panel.length - 1; i >= 0; i--) {
    const p = state.panel[i]!;
    if (state.chips.size === 0 || state.chips.has(p.type)) out.push(p);
  }
  return out;
}

/** Index of the selected entry within {@link visibleEntries} (0 = newest). */
export function selectedIndex(
  state: DashboardState,
  visible: readonly PanelEntry[] = visibleEntries(state),
): number {
  if (state.selectedSeq === null) return 0;
  const i = visible.findIndex((p) => p.entry.seq === state.selectedSeq);
  return i < 0 ? 0 : i;
}

/** A decoded key press. */
export type Key =
  | { kind: "char"; ch: string }
  | { kind: "up" }
  | { kind: "down" }
  | { kind: "pageUp" }
  | { kind: "pageDown" }
  | { kind: "enter" }
  | { kind: "escape" }
  | { kind: "interrupt" };

/**
 * Decode raw terminal input (one read) into keys. Unknown escape sequences
 * are skipped whole; a lone ESC is the Esc key.
 */
export function parseKeys(input: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch === "\x1b") {
      const next = input[i + 1];
      if (next === "[" || next === "O") {
        // CSI / SS3: parameters then one final byte in @–~.
        let j = i + 2;
        while (j < input.length && !/[@-~]/.test(input[j]!)) j++;
        const final = input[j];
        const params = input.slice(i + 2, j);
        if (final === "A") keys.push({ kind: "up" });
        else if (final === "B") keys.push({ kind: "down" });
        else if (final === "~" && params === "5") keys.push({ kind: "pageUp" });
        else if (final === "~" && params === "6") {
          keys.push({ kind: "pageDown" });
        }
        i = j + 1;
        continue;
      }
      keys.push({ kind: "escape" });
      i++;
      continue;
    }
    if (ch === "\r" || ch === "\n") keys.push({ kind: "enter" });
    else if (ch === "\x03") keys.push({ kind: "interrupt" });
    else if (ch >= " " && ch !== "\x7f") keys.push({ kind: "char", ch });
    i++;
  }
  return keys;
}

/** Lines one PgUp/PgDn moves the JSON overlay. */
const OVERLAY_PAGE = 10;

/** What a key did. */
export type KeyResult = "quit" | "changed" | "none";

/** Apply a key (docs/REFERENCE.md, "Dashboard"). */
export function handleKey(state: DashboardState, key: Key): KeyResult {
  if (key.kind === "interrupt") return "quit";
  if (key.kind === "escape") {
    if (!state.overlay) return "none";
    state.overlay = false;
    return "changed";
  }
  if (key.kind === "enter") {
    if (!state.logVisible || visibleEntries(state).length === 0) return "none";
    state.overlay = true;
    state.overlayScroll = 0;
    return "changed";
  }
  if (key.kind === "pageUp" || key.kind === "pageDown") {
    if (!state.overlay) return "none";
    const next = Math.max(
      0,
      state.overlayScroll +
        (key.kind === "pageUp" ? -OVERLAY_PAGE : OVERLAY_PAGE),
    );
    if (next === state.overlayScroll) return "none";
    state.overlayScroll = next; // the renderer clamps it to the content
    return "changed";
  }
  if (key.kind === "up" || key.kind === "down") {
    return moveSelection(state, key.kind === "up" ? -1 : 1);
  }
  switch (key.ch) {
    case "q":
    case "Q":
      return "quit";
    case "k":
      return moveSelection(state, -1);
    case "j":
      return moveSelection(state, 1);
    case "l":
    case "L":
      state.logVisible = !state.logVisible;
      if (!state.logVisible) state.overlay = false;
      return "changed";
    case "a":
    case "A":
      if (state.chips.size === 0 && state.selectedSeq === null) return "none";
      state.chips.clear();
      state.selectedSeq = null;
      return "changed";
  }
  if (/^[0-9]$/.test(key.ch)) {
    const n = key.ch === "0" ? 10 : Number(key.ch);
    const type = MESSAGE_TYPES[n - 1]!;
    if (state.chips.has(type)) state.chips.delete(type);
    else state.chips.add(type);
    state.selectedSeq = null;
    const visible = visibleEntries(state);
    if (visible.length === 0) state.overlay = false;
    return "changed";
  }
  return "none";
}

function moveSelection(state: DashboardState, delta: number): KeyResult {
  if (!state.logVisible) return "none";
  const visible = visibleEntries(state);
  if (visible.length === 0) return "none";
  const i = selectedIndex(state, visible);
  const j = Math.min(visible.length - 1, Math.max(0, i + delta));
  if (j === i && state.selectedSeq !== null) return "none";
  state.selectedSeq = j === 0 ? null : visible[j]!.entry.seq;
  if (j !== i) state.overlayScroll = 0;
  return j === i ? "none" : "changed";
}

/** The entry the overlay shows, or null. */
export function selectedEntry(state: DashboardState): PanelEntry | null {
  const visible = visibleEntries(state);
  return visible[selectedIndex(state, visible)] ?? null;
}

/** Reason a TUI denial records when the person gives none. */
export const TUI_DENY_REASON = "denied from the dashboard";

/** A decision a key asks for on the selected pending approval. */
export type KeyDecision = {
  /** The approval's id (its request's seq). */
  id: number;
  decision: "allow" | "deny";
  reason: string | null;
};

/**
 * `y` approves and `n` denies the selected message when it is an
 * `approval.request` still in `pending` (ids of the queue's pending items);
 * anything else asks for nothing. The shell decides it through the approvals
 * plugin, recorded as `tui`.
 */
export function keyDecision(
  state: DashboardState,
  key: Key,
  pending: ReadonlySet<number>,
): KeyDecision | null {
  if (key.kind !== "char" || !state.logVisible) return null;
  const ch = key.ch.toLowerCase();
  if (ch !== "y" && ch !== "n") return null;
  const sel = selectedEntry(state);
  if (!sel || sel.entry.message.type !== "approval.request") return null;
  if (!pending.has(sel.entry.seq)) return null;
  return ch === "y"
    ? { id: sel.entry.seq, decision: "allow", reason: null }
    : { id: sel.entry.seq, decision: "deny", reason: TUI_DENY_REASON };
}
