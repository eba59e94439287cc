/**
 * Terminal-safe text for the dashboard: neutralise control characters in
 * agent-supplied strings, measure display width (wide CJK and emoji count 2)
 * and truncate/pad to a column width with `…`. Pure.
 *
 * Every string that comes from an agent (ids, summaries, payload text, JSON)
 * goes through {@link sanitize} before it is drawn, so no agent can emit an
 * escape sequence (ESC, CSI, OSC, DCS), ring the bell, move the cursor or flip
 * the text direction in the dashboard's terminal.
 * @module
 */
import { eastAsianWidth } from "get-east-asian-width";

/**
 * Characters that are dropped or replaced:
 * - C0 controls U+0000–U+001F and DEL → their visible Control Pictures
 *   (`␛`, `␇`, …), except tab/newline/CR which become a space;
 * - C1 controls U+0080–U+009F (8-bit CSI/OSC/DCS) → `�`;
 * - bidi embeddings/overrides/isolates and marks (U+061C, U+200E, U+200F,
 *   U+202A–U+202E, U+2066–U+2069), line/paragraph separators (U+2028/9) → `�`;
 * - zero-width joiner, variation selectors and emoji skin-tone modifiers are
 *   removed, so every terminal (tmux included) measures the text exactly as
 *   we do (an emoji sequence shows as its component glyphs).
 */
const UNSAFE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200d\ufe00-\ufe0f\u{1f3fb}-\u{1f3ff}\u{e0100}-\u{e01ef}]/gu;

function replaceUnsafe(ch: string): string {
  const c = ch.codePointAt(0)!;
  if (c === 0x09 || c === 0x0a || c === 0x0d) return " ";
  if (c < 0x20) return String.fromCodePoint(0x2400 + c);
  if (c === 0x7f) return "\u2421";
  if (
    c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f) ||
    (c >= 0x1f3fb && c <= 0x1f3ff) || (c >= 0xe0100 && c <= 0xe01ef)
  ) return "";
  return "\ufffd";
}

/**
 * Make agent text safe to draw on one terminal line: no control characters,
 * no escape sequences, no bidi controls; lone surrogates become `�`.
 *
 * @example
 * ```ts
 * import { sanitize } from "./dashboard_text.ts";
 * sanitize("hi\x1b[2Jthere\x07"); // "hi␛[2Jthere␇"
 * ```
 */
export function sanitize(text: string): string {
  // toWellFormed replaces lone surrogates (which terminals draw unpredictably).
  const s = text.toWellFormed();
  return s.replace(UNSAFE, replaceUnsafe);
}

/** Like {@link sanitize} but keeps newlines (for multi-line views). */
export function sanitizeLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/).map(sanitize);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u1160-\u11ff\u200b]$/u;
const bmpWidth = new Int8Array(0x10000).fill(-1);
const astralWidth = new Map<number, number>();

/**
 * Columns one code point takes, as terminals (wcwidth, tmux) count it:
 * 0 for combining marks and format characters, 2 for East Asian Wide and
 * Fullwidth characters (CJK, emoji with emoji presentation), else 1.
 * Cached per code point.
 */
function codePointWidth(cp: number): number {
  if (cp >= 0x20 && cp < 0x7f) return 1;
  if (cp < 0x10000) {
    const hit = bmpWidth[cp]!;
    if (hit >= 0) return hit;
    const w = computeWidth(cp);
    bmpWidth[cp] = w;
    return w;
  }
  let w = astralWidth.get(cp);
  if (w === undefined) astralWidth.set(cp, w = computeWidth(cp));
  return w;
}

function computeWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (ZERO_WIDTH.test(String.fromCodePoint(cp))) return 0;
  return eastAsianWidth(cp);
}

/** Display width in terminal columns of already-sanitised text. */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    w += codePointWidth(cp);
  }
  return w;
}

/**
 * Cut sanitised `text` to at most `width` columns, ending with `…` when cut.
 * Never splits a wide character or a surrogate pair; combining marks stay
 * with their base character.
 */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  if (PRINTABLE_ASCII.test(text)) {
    return text.length <= width
      ? text
      : width === 1
      ? "…"
      : text.slice(0, width - 1) + "…";
  }
  if (displayWidth(text) <= width) return text;
  let used = 0;
  let end = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const size = cp > 0xffff ? 2 : 1;
    const w = codePointWidth(cp);
    if (w > 0 && used + w > width - 1) break;
    used += w;
    i += size - 1;
    end = i + 1;
  }
  return text.slice(0, end) + "…";
}

/** Truncate then pad with spaces to exactly `width` columns. */
export function fit(text: string, width: number): string {
  const t = truncate(text, width);
  const w = displayWidth(t);
  return w < width ? t + " ".repeat(width - w) : t;
}

/** Pad/truncate on the left (right-aligned) to exactly `width` columns. */
export function fitRight(text: string, width: number): string {
  const t = truncate(text, width);
  const w = displayWidth(t);
  return w < width ? " ".repeat(width - w) + t : t;
}

/**
 * Collapse a possibly huge, multi-line agent string into one sanitised line
 * of at most `maxChars` code units (before width truncation), with runs of
 * whitespace squeezed. Bounded work however long the input is.
 */
export function oneLine(text: string, maxChars = 400): string {
  const head = text.length > maxChars * 2 ? text.slice(0, maxChars * 2) : text;
  const s = sanitize(head).replace(/\s+/g, " ").trim();
  return s.length > maxChars
    ? s.slice(0, maxChars - 1).toWellFormed() + "…"
    : s;
}
