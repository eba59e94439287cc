import { type LooseObject, looseObject, looseText } from "./loose_json.ts";
/**
 * What a CLI's own hook events say about its agent, decided purely: the
 * `agent.status` a hook run should publish (`needs_input` when the CLI waits
 * for a person, `idle` at the end of a turn, `working` when it goes on), and
 * the small per-worktree state the hook runs share (the tool call waiting for
 * approval, what the hooks last published) so that a late or repeated event
 * publishes nothing new. Facts per CLI: docs/clis/claude.md ("Hooks"),
 * docs/clis/gemini.md ("State hooks"), Codex's `notify` (its JSON argument).
 *
 * Statuses published from here and from the screen detector carry
 * `detail.source` ({@link CLI_EVENT_SOURCE}, {@link SCREEN_SOURCE}): they say
 * nothing about the agent's files (their `modified_files` is empty), which
 * the conflict detector and the attention rules need to know.
 *
 * Pure; no zod and no dashboard text module: the hook command loads this on
 * every tool call.
 * @module
 */

/** The three states a CLI event can report. */
export type CliState = "needs_input" | "idle" | "working";

/** What one event means: the status and its one-line message. */
export type CliEventStatus = {
  status: CliState;
  /** What it waits for / what it does, one line; null when nothing to say. */
  message: string | null;
};

/** `detail.source` of a status published by a CLI hook. */
export const CLI_EVENT_SOURCE = "cli_event";
/** `detail.source` of a status published by the screen detector. */
export const SCREEN_SOURCE = "screen";

/** Longest message sent (characters). */
const MAX_MESSAGE = 300;

type Json = LooseObject;

/**
 * One line of at most `max` characters: control characters and runs of
 * whitespace become one space, the end is cut with `…`.
 */
export function oneLineText(text: string, max = MAX_MESSAGE): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/gu, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The argument of a tool call that says what it does, by tool. */
const TOOL_ARG_KEYS = [
  "command",
  "file_path",
  "path",
  "absolute_path",
  "url",
  "pattern",
  "query",
  "prompt",
];

/**
 * `Tool: what` for a tool call, e.g. `Bash: mkdir -p build` or
 * `Write: src/a.ts`; the bare tool name when no known argument is there.
 *
 * @example
 * ```ts
 * import { toolLabel } from "./cli_events.ts";
 * toolLabel("Bash", { command: "mkdir -p build" }); // "Bash: mkdir -p build"
 * ```
 */
export function toolLabel(tool: string, input: unknown): string {
  const i = looseObject(input);
  for (const k of TOOL_ARG_KEYS) {
    const v = looseText(i[k]);
    if (v) return oneLineText(`${tool}: ${v}`);
  }
  return oneLineText(tool);
}

/**
 * Claude Code's hook events; Codex 0.169 has the same names and fields
 * (`$CODEX_HOME/hooks.json`), plus `PermissionRequest` when it asks.
 */
function claudeEvent(event: string, p: Json): CliEventStatus | null {
  switch (event) {
    case "UserPromptSubmit":
      return { status: "working", message: null };
    case "PermissionRequest": {
      const tool = looseText(p.tool_name);
      return {
        status: "needs_input",
        message: tool ? toolLabel(tool, p.tool_input) : "waiting for a person",
      };
    }
    case "PreToolUse":
    case "PostToolUse": {
      const tool = looseText(p.tool_name);
      return {
        status: "working",
        message: tool ? toolLabel(tool, p.tool_input) : null,
      };
    }
    case "Notification": {
      const type = looseText(p.notification_type);
      if (type === "idle_prompt") {
        return { status: "idle", message: "waiting for a prompt" };
      }
      // A permission prompt is `PermissionRequest`'s to report: it names
      // the tool call, this notification only says "needs your permission"
      // (and, both running in the background, could land after it).
      if (type === "elicitation_dialog") {
        const m = looseText(p.message);
        return {
          status: "needs_input",
          message: m ? oneLineText(m) : "waiting for a person",
        };
      }
      return null;
    }
    case "Stop": {
      const last = looseText(p.last_assistant_message);
      return { status: "idle", message: last ? oneLineText(last) : null };
    }
    default:
      return null;
  }
}

/** Gemini's tool names as its screen shows them (`Shell touch x`). */
const GEMINI_TOOLS: Record<string, string> = { run_shell_command: "Shell" };

function geminiEvent(event: string, p: Json): CliEventStatus | null {
  switch (event) {
    case "BeforeAgent":
      return { status: "working", message: null };
    case "BeforeTool":
    case "AfterTool": {
      const tool = looseText(p.tool_name);
      return {
        status: "working",
        message: tool
          ? toolLabel(GEMINI_TOOLS[tool] ?? tool, p.tool_input)
          : null,
      };
    }
    case "Notification": {
      if (looseText(p.notification_type) !== "ToolPermission") return null;
      const d = looseObject(p.details);
      const cmd = looseText(d.command);
      const m = looseText(p.message);
      return {
        status: "needs_input",
        message: cmd
          ? oneLineText(`Shell: ${cmd}`)
          : m
          ? oneLineText(m)
          : "waiting for a person",
      };
    }
    case "AfterAgent": {
      const last = looseText(p.prompt_response);
      return { status: "idle", message: last ? oneLineText(last) : null };
    }
    default:
      return null;
  }
}

function codexEvent(event: string, p: Json): CliEventStatus | null {
  if (event !== "notify") return claudeEvent(event, p);
  // `notify` passes one JSON argument; its `type` names the event. It also
  // fires for Codex's hidden title turn: the `Stop` hook is the better source.
  const type = looseText(p.type) ?? event;
  if (type !== "agent-turn-complete") return null;
  const last = looseText(p["last-assistant-message"]);
  return { status: "idle", message: last ? oneLineText(last) : null };
}

/**
 * The status a CLI's hook event reports, or null when the event says
 * nothing about whether the agent needs a person.
 *
 * - claude: `PermissionRequest` (naming the tool call), `Notification`
 *   `elicitation_dialog` → `needs_input` (a `permission_prompt`
 *   notification is left to `PermissionRequest`); `Stop`, `Notification`
 *   `idle_prompt` → `idle`;
 *   `UserPromptSubmit`, `PreToolUse`, `PostToolUse` → `working` (the
 *   message names the tool call).
 * - gemini: `Notification` `ToolPermission` → `needs_input` (`Shell: cmd`);
 *   `AfterAgent` → `idle`; `BeforeAgent`, `BeforeTool`, `AfterTool` →
 *   `working`.
 * - codex: its hooks as Claude's (`PermissionRequest` → `needs_input`,
 *   `Stop` → `idle`); `notify` `agent-turn-complete` → `idle`.
 *
 * @example
 * ```ts
 * import { mapCliEvent } from "./cli_events.ts";
 * mapCliEvent("claude", "Stop", { last_assistant_message: "Done." });
 * // { status: "idle", message: "Done." }
 * ```
 */
export function mapCliEvent(
  cli: string,
  event: string,
  payload: unknown,
): CliEventStatus | null {
  const p = looseObject(payload);
  switch (cli) {
    case "claude":
      return claudeEvent(event, p);
    case "gemini":
      return geminiEvent(event, p);
    case "codex":
      return codexEvent(event, p);
    default:
      return null;
  }
}

/** Events that start a tool call which may wait for approval. */
const TOOL_START: ReadonlySet<string> = new Set(["PreToolUse", "BeforeTool"]);
/** Events after which no tool call waits any more. */
const TOOL_END: ReadonlySet<string> = new Set([
  "PostToolUse",
  "AfterTool",
  "Stop",
  "UserPromptSubmit",
  "BeforeAgent",
  "AfterAgent",
  "agent-turn-complete",
  "notify",
]);

/** A tool call the CLI started and that has not finished yet. */
export type PendingTool = {
  /** {@link toolLabel} of the call. */
  label: string;
  /** Unix ms when it started. */
  at: number;
};

/**
 * What the hooks of one worktree remember between runs (the state file in
 * the worktree's git dir).
 */
export type CliEventState = {
  version: 1;
  cli: string;
  pending: PendingTool | null;
  /** The last status the hooks published (null: none yet). */
  published: CliEventStatus | null;
  /**
   * When the CLI started the latest hook run applied (an opaque, ordered
   * clock: the hook process's start time), absent when unknown. A run
   * that started before it comes too late and changes nothing: the CLI
   * runs some hooks in the background, several may be under way at once.
   */
  fired_at?: number;
};

/** A state with nothing pending and nothing published. */
export function emptyCliEventState(cli: string): CliEventState {
  return { version: 1, cli, pending: null, published: null };
}

/** Parse a state file's text; a fresh state when it is not one. */
export function parseCliEventState(
  text: string | null,
  cli: string,
): CliEventState {
  if (text === null) return emptyCliEventState(cli);
  try {
    const j = looseObject(JSON.parse(text));
    const pend = looseObject(j.pending);
    const pub = looseObject(j.published);
    const label = looseText(pend.label);
    const status = pub.status;
    return {
      version: 1,
      cli,
      pending: label && typeof pend.at === "number"
        ? { label, at: pend.at }
        : null,
      published: status === "needs_input" || status === "idle" ||
          status === "working"
        ? { status, message: looseText(pub.message) }
        : null,
      ...(typeof j.fired_at === "number" && Number.isFinite(j.fired_at)
        ? { fired_at: j.fired_at }
        : {}),
    };
  } catch {
    return emptyCliEventState(cli);
  }
}

/** What a hook run does: publish this status (or nothing), keep this state. */
export type CliEventStep = {
  publish: CliEventStatus | null;
  state: CliEventState;
  /** True when the state file must be written. */
  changed: boolean;
};

function same(a: CliEventStatus | null, b: CliEventStatus | null): boolean {
  return a !== null && b !== null && a.status === b.status &&
    a.message === b.message;
}

/**
 * Decide one hook run (a reducer over {@link CliEventState}):
 * - a tool call's start is remembered as pending (the screen detector and a
 *   later permission notification name it); its end, a new prompt or the end
 *   of the turn clear it;
 * - `needs_input` quotes the pending tool call when there is one (Claude's
 *   notification only says "Claude needs your permission"), and is dropped
 *   when the hooks already said exactly that;
 * - `working` is published only when the hooks' last word was not
 *   `working` (so not on every tool call);
 * - `idle` at the end of a turn is always published; Claude's later
 *   `idle_prompt` reminder only when the hooks had not said `idle`;
 * - with `firedAt` (when the CLI started this hook run), a run that started
 *   before the latest one applied is stale and changes nothing (a
 *   background hook that lost the race, e.g. a turn's late
 *   `UserPromptSubmit` after its `Stop`); otherwise it is remembered.
 */
export function stepCliEvent(
  prev: CliEventState,
  event: string,
  mapped: CliEventStatus | null,
  nowMs: number,
  firedAt: number | null = null,
): CliEventStep {
  if (
    firedAt !== null && prev.fired_at !== undefined && firedAt < prev.fired_at
  ) {
    return { publish: null, state: prev, changed: false };
  }
  const state: CliEventState = { ...prev };
  let changed = false;
  if (firedAt !== null && prev.fired_at !== firedAt) {
    state.fired_at = firedAt;
    changed = true;
  }
  const kind = event === "notify" && mapped ? "agent-turn-complete" : event;
  if (TOOL_START.has(kind) && mapped?.message) {
    state.pending = { label: mapped.message, at: nowMs };
    changed = true;
  } else if (TOOL_END.has(kind) && state.pending !== null) {
    state.pending = null;
    changed = true;
  }
  let publish: CliEventStatus | null = null;
  if (mapped?.status === "needs_input") {
    publish = state.pending
      ? { status: "needs_input", message: state.pending.label }
      : mapped;
    if (same(publish, state.published)) publish = null;
  } else if (mapped?.status === "working") {
    if (state.published?.status !== "working") publish = mapped;
  } else if (mapped?.status === "idle") {
    // The end of a turn always counts; an idle reminder after it does not.
    if (!(event === "Notification" && state.published?.status === "idle")) {
      publish = mapped;
    }
  }
  if (publish) {
    state.published = publish;
    changed = true;
  }
  return { publish, state, changed };
}

/**
 * The `agent.status` wire message for a status from a hook or the screen
 * detector. `modified_files` is empty: these say nothing about files (see
 * {@link saysNothingAboutFiles}).
 */
export function cliStatusMessage(
  agentId: string,
  cli: string | null,
  s: CliEventStatus,
  detail: { source: string; event?: string },
): Record<string, unknown> {
  return {
    type: "agent.status",
    agent_id: agentId,
    payload: {
      status: s.status,
      modified_files: [],
      message: s.message,
      ...(cli ? { cli } : {}),
      detail,
    },
  };
}

/**
 * True for a status published by a CLI hook or the screen detector: its
 * empty `modified_files` is not a report of the working set.
 */
export function saysNothingAboutFiles(detail: unknown): boolean {
  const s = looseObject(detail).source;
  return s === CLI_EVENT_SOURCE || s === SCREEN_SOURCE;
}
