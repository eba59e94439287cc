/**
 * What an agent pane's screen shows, read from its text (`tmux capture-pane
 * -p`): a permission prompt and the command it asks about, a trust dialog,
 * another question, the idle prompt, a CLI at work, or nothing known. The
 * fallback (and fast path) of "which agent needs me" where a CLI's hooks are
 * missing or late. Rules per CLI come from the real screens in
 * `fixtures/screens/<cli>_*.txt`; a CLI without rules gets the generic
 * prompt phrases. Pure.
 * @module
 */
import { oneLineText } from "./cli_events.ts";

/** The kinds of screen told apart. */
export type ScreenKind =
  | "permission"
  | "trust"
  | "question"
  | "idle"
  | "working"
  | "unknown";

/** What a screen shows. */
export type ScreenState = {
  kind: ScreenKind;
  /** For a prompt: what it asks about, one line (`Bash: touch x`); else "". */
  detail: string;
};

/** True for the kinds where the CLI waits for a person. */
export function waitsForPerson(kind: ScreenKind): boolean {
  return kind === "permission" || kind === "trust" || kind === "question";
}

const DASHED = /^\s*╌{8,}\s*$/;
const RULE = /^\s*─{8,}\s*$/;

function trimmed(lines: string[]): string[] {
  return lines.map((l) => l.trim()).filter((l) => l !== "");
}

/**
 * Claude Code 2.1: the prompt box sits under a `───` rule: a header
 * (` Bash command`), the command between two `╌╌╌` rules, then
 * `Do you want to proceed?` and numbered choices.
 */
function claudePermission(lines: string[]): ScreenState | null {
  const q = lines.findLastIndex((l) =>
    /^\s*Do you want to (proceed|make this edit|create|allow|write|delete)\b.*\?\s*$/
      .test(l)
  );
  if (q < 0) return null;
  const choices = lines.slice(q + 1).some((l) =>
    /^\s*(❯\s*)?1\.\s+Yes/.test(l)
  );
  if (!choices) return null;
  const question = lines[q]!.trim();
  // The box: the last `───` rule above the question.
  let top = -1;
  for (let i = q - 1; i >= 0; i--) {
    if (RULE.test(lines[i]!)) {
      top = i;
      break;
    }
  }
  const box = lines.slice(top + 1, q);
  const header = box.find((l) => l.trim() !== "")?.trim() ?? "";
  const tool = /^(\w+) command$/.exec(header)?.[1] ??
    (/^(Edit|Create|Write|Delete|Read) file$/.exec(header)?.[1] ?? null);
  const dashes = box.flatMap((l, i) => DASHED.test(l) ? [i] : []);
  let what = "";
  if (dashes.length >= 2) {
    what = trimmed(box.slice(dashes[dashes.length - 2]! + 1, dashes.at(-1)))
      .join(" ");
  }
  if (!what) {
    const m = /to (.+)\?$/.exec(question);
    if (m && !/^proceed/.test(question)) what = m[1]!;
  }
  const label = tool && what ? `${tool}: ${what}` : what || header || question;
  return { kind: "permission", detail: oneLineText(label) };
}

function claudeScreen(text: string, lines: string[]): ScreenState {
  const perm = claudePermission(lines);
  if (perm) return perm;
  if (
    text.includes("Accessing workspace:") &&
    text.includes("Yes, I trust this folder")
  ) {
    const i = lines.findIndex((l) => l.includes("Accessing workspace:"));
    const dir = trimmed(lines.slice(i + 1, i + 4))[0] ?? "";
    return { kind: "trust", detail: oneLineText(`trust folder ${dir}`) };
  }
  if (/Enter to confirm · Esc to cancel/.test(text)) {
    const q = lines.findLast((l) => /\?\s*$/.test(l));
    return {
      kind: "question",
      detail: oneLineText(q?.trim() ?? "a question on screen"),
    };
  }
  if (/esc to interrupt/i.test(text)) return { kind: "working", detail: "" };
  if (/\? for shortcuts|shift\+tab to cycle/.test(text)) {
    return { kind: "idle", detail: "" };
  }
  return { kind: "unknown", detail: "" };
}

/** The text of a line inside a `│ … │` box (Gemini), trimmed. */
function unboxed(line: string): string {
  return line.replace(/^[\s│╭╰]+|[\s│╮╯]+$/g, "").trim();
}

/**
 * Codex 0.169: "Would you like to run the following command?" with the
 * command on a `$ ` line and numbered choices; its other dialogs end in
 * `enter … · esc …`.
 */
function codexScreen(text: string, lines: string[]): ScreenState {
  const q = lines.findLastIndex((l) =>
    /Would you like to (run the following command|make the following edits|apply)/
      .test(l)
  );
  if (q >= 0 && lines.slice(q + 1).some((l) => /^\s*(›\s*)?1\.\s/.test(l))) {
    const cmd = lines.slice(q + 1).find((l) => /^\s*\$ \S/.test(l));
    return {
      kind: "permission",
      detail: oneLineText(
        cmd ? `Bash: ${cmd.replace(/^\s*\$ /, "")}` : lines[q]!.trim(),
      ),
    };
  }
  if (/Trust this folder\?/.test(text)) {
    const i = lines.findIndex((l) => /Folder access/.test(l));
    const dir = i >= 0 ? trimmed(lines.slice(i + 1, i + 3))[0] ?? "" : "";
    return { kind: "trust", detail: oneLineText(`trust folder ${dir}`.trim()) };
  }
  const locked = lines.find((l) =>
    /This conversation is open in another app/.test(l)
  );
  if (locked) {
    return {
      kind: "question",
      detail: oneLineText(locked.replace(/\s+r to retry.*$/, "")),
    };
  }
  // A dialog: a numbered choice selected (`› 2.`) below the last input box.
  const chosen = lines.findLastIndex((l) => /^\s*›\s*\d+\.\s/.test(l));
  const input = lines.findLastIndex((l) => /Ask Codex to do anything/.test(l));
  if (chosen > input) {
    const first = trimmed(lines)[0] ?? "a question on screen";
    return { kind: "question", detail: oneLineText(first) };
  }
  if (/esc to interrupt/.test(text)) return { kind: "working", detail: "" };
  if (/\? for shortcuts|Ask Codex to do anything/.test(text)) {
    return { kind: "idle", detail: "" };
  }
  return { kind: "unknown", detail: "" };
}

/**
 * Gemini CLI 0.61: a box with `? Shell  <cmd>`, the command, "Allow
 * execution of [Shell]?" and numbered choices; the trust and sign-in
 * dialogs; the input box when idle.
 */
function geminiScreen(text: string, lines: string[]): ScreenState {
  const q = lines.findLastIndex((l) =>
    /Allow execution of \[(\w+)\]\?/.test(l)
  );
  // The dialog lowest on screen is the one that asks now.
  const trust = lines.findLastIndex((l) =>
    /Do you trust the files in this folder\?/.test(l)
  );
  const restart = lines.findLastIndex((l) => /is restarting to apply/.test(l));
  if (restart > trust && restart > q) return { kind: "working", detail: "" };
  if (
    q > trust && lines.slice(q + 1).some((l) => /\b1\.\s+Allow/.test(l))
  ) {
    const head = lines.slice(0, q).findLast((l) =>
      /^\s*│\s*\?\s+\w+\s/.test(l)
    );
    const m = head ? /\?\s+(\w+)\s+(.*)$/.exec(unboxed(head)) : null;
    const tool = /\[(\w+)\]/.exec(lines[q]!)?.[1] ?? "Shell";
    return {
      kind: "permission",
      detail: oneLineText(m ? `${m[1]}: ${m[2]}` : tool),
    };
  }
  if (trust >= 0) {
    const opt = lines.slice(trust).find((l) => /1\.\s+Trust folder/.test(l));
    const m = opt ? /Trust folder \(([^)]*)\)/.exec(opt) : null;
    return {
      kind: "trust",
      detail: oneLineText(`trust folder ${m?.[1] ?? ""}`.trim()),
    };
  }
  if (/How would you like to authenticate/.test(text)) {
    return {
      kind: "question",
      detail: "How would you like to authenticate for this project?",
    };
  }
  if (/esc to cancel/.test(text)) return { kind: "working", detail: "" };
  if (/Type your message or @path/.test(text)) {
    return { kind: "idle", detail: "" };
  }
  return { kind: "unknown", detail: "" };
}

/** Phrases of a permission prompt in any CLI (docs/REFERENCE.md, supervisor). */
const GENERIC_PROMPT =
  /requires approval|do you want to proceed|do you want to allow|allow execution|allow this command|\(y\/n\)|\[y\/N\]/i;

function genericScreen(lines: string[]): ScreenState {
  const i = lines.findLastIndex((l) => GENERIC_PROMPT.test(l));
  if (i < 0) return { kind: "unknown", detail: "" };
  // The command: a `$ cmd` line above the question, else the question.
  const above = lines.slice(Math.max(0, i - 12), i + 1);
  const cmd = above.findLast((l) => /^\s*[│|]?\s*\$ \S/.test(l));
  const detail = cmd
    ? cmd.replace(/^\s*[│|]?\s*\$ /, "").replace(/\s*[│|]\s*$/, "")
    : lines[i]!.replace(/[│|]/g, " ");
  return { kind: "permission", detail: oneLineText(detail) };
}

/**
 * Classify one screen of `cli`.
 *
 * @example
 * ```ts
 * import { detectScreen } from "./screen_detect.ts";
 * detectScreen("claude", " Bash command\n Do you want to proceed?\n ❯ 1. Yes\n");
 * // { kind: "permission", detail: "Bash command" }
 * ```
 */
export function detectScreen(cli: string, text: string): ScreenState {
  const lines = text.split("\n").map((l) => l.replace(/\s+$/, ""));
  switch (cli) {
    case "claude":
      return claudeScreen(text, lines);
    case "codex":
      return codexScreen(text, lines);
    case "gemini":
      return geminiScreen(text, lines);
    default:
      return genericScreen(lines);
  }
}

/** What the pane monitor remembers about one agent's screen. */
export type ScreenTrack = {
  /** The needs_input the monitor published and that still stands, or null. */
  published: string | null;
  /** Captures in a row without a prompt. */
  clearFor: number;
};

/** A fresh track. */
export function emptyScreenTrack(): ScreenTrack {
  return { published: null, clearFor: 0 };
}

/** What the broker and the hooks say when a screen is looked at. */
export type ScreenContext = {
  /** The agent's roster status (null: not on the roster yet). */
  brokerStatus: string | null;
  /** The tool call the hooks saw start and not finish (`Bash: cmd`). */
  pending: string | null;
};

/** Captures without a prompt before the monitor says it is gone. */
const CLEAR_AFTER = 2;

function letters(s: string): string {
  return s.replace(/\s+/g, "").replace(/…$/, "");
}

/**
 * The detail to publish for a permission prompt: the hooks' pending call
 * when it is the call on screen (the screen may wrap or cut it) or the
 * screen names none; else what the screen shows.
 */
export function promptDetail(
  screen: ScreenState,
  pending: string | null,
): string {
  if (screen.kind !== "permission" || !pending) return screen.detail;
  const shown = letters(screen.detail);
  const want = letters(pending);
  if (!screen.detail.includes(":")) return pending;
  return want.startsWith(shown) || shown.startsWith(want)
    ? pending
    : screen.detail;
}

/** One step of the pane monitor for one agent. */
export type ScreenStep = {
  /** The status to publish now, or null. */
  publish: {
    status: "needs_input" | "idle" | "working";
    message: string | null;
  } | null;
  track: ScreenTrack;
};

/**
 * Decide one capture (a reducer): publish `needs_input` when the screen
 * waits for a person and neither the monitor nor anyone else (a hook)
 * already said so; once the prompt has been gone for {@link CLEAR_AFTER}
 * captures, publish `idle` (the idle prompt is back) or `working`: when the
 * monitor reported the prompt itself and the broker says `needs_input` or
 * only `working` (a file report is no answer: its attention item must end),
 * and for a hook's `needs_input` still on the broker when the screen shows
 * the CLI idle or at work. Nothing when a hook already said more (`idle`).
 * Publishes on change only: a prompt that stays, stays quiet.
 */
export function stepScreen(
  prev: ScreenTrack,
  screen: ScreenState,
  ctx: ScreenContext,
): ScreenStep {
  const track: ScreenTrack = { ...prev };
  const saysWaiting = ctx.brokerStatus === "needs_input";
  if (waitsForPerson(screen.kind)) {
    track.clearFor = 0;
    const detail = promptDetail(screen, ctx.pending) ||
      "waiting for a person";
    if (track.published === detail && saysWaiting) {
      return { publish: null, track };
    }
    if (saysWaiting && track.published === null) {
      // A hook said so first: hooks win.
      return { publish: null, track };
    }
    track.published = detail;
    return { publish: { status: "needs_input", message: detail }, track };
  }
  track.clearFor++;
  if (track.clearFor < CLEAR_AFTER) return { publish: null, track };
  const known = screen.kind === "idle" || screen.kind === "working";
  const was = track.published;
  // Our own prompt report is withdrawn even when the broker moved on (a
  // file report is no answer to it); someone else's only when the screen
  // shows what came instead (a hook's prompt denied: no hook follows).
  if (was === null && !(saysWaiting && known)) return { publish: null, track };
  track.published = null;
  // A hook already said where it went (`idle` at the end of the turn, …).
  const movedOn = ctx.brokerStatus !== null && !saysWaiting &&
    ctx.brokerStatus !== "working";
  if (movedOn) return { publish: null, track };
  return {
    publish: screen.kind === "idle"
      ? { status: "idle", message: "prompt answered" }
      : {
        status: "working",
        message: was ? `answered: ${was}` : "prompt answered",
      },
    track,
  };
}
