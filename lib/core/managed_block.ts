/**
 * A block of lines that git-paw owns inside a text file the user owns too
 * (AGENTS.md, `info/exclude`, a git hook): found between a begin and an end
 * marker line, replaced in place, removed with everything else kept. Pure
 * text functions; the callers read and write the files.
 * @module
 */

/** How a file's block is delimited. */
export type BlockMarkers = {
  /** The begin line written. */
  begin: string;
  /** The end line written. */
  end: string;
  /** Which lines count as a begin marker (default: equal to `begin`). */
  isBegin?: (line: string) => boolean;
  /** Which lines count as an end marker (default: equal to `end`). */
  isEnd?: (line: string) => boolean;
};

/** Where a block sits in a file's lines. */
export type BlockSpan = {
  /** Index of the begin line. */
  start: number;
  /** Index of the end line, or of the last line of a block left unclosed. */
  end: number;
  /** False when no end marker follows: the block runs to the end of the file. */
  closed: boolean;
};

/**
 * The first block in `lines` (the text split on `\n`), or null. A begin
 * without an end runs to the end of the file (the empty string after a
 * final newline is not part of it).
 */
export function findBlock(
  lines: readonly string[],
  markers: BlockMarkers,
): BlockSpan | null {
  const isBegin = markers.isBegin ?? ((l: string) => l === markers.begin);
  const isEnd = markers.isEnd ?? ((l: string) => l === markers.end);
  const start = lines.findIndex(isBegin);
  if (start < 0) return null;
  for (let i = start + 1; i < lines.length; i++) {
    if (isEnd(lines[i]!)) return { start, end: i, closed: true };
  }
  let end = lines.length - 1;
  if (end > start && lines[end] === "") end--;
  return { start, end, closed: false };
}

/** True when `text` holds a block. */
export function hasBlock(text: string, markers: BlockMarkers): boolean {
  return findBlock(text.split("\n"), markers) !== null;
}

/** The lines between the markers of the block in `text`, or null. */
export function blockBody(text: string, markers: BlockMarkers): string | null {
  const lines = text.split("\n");
  const found = findBlock(lines, markers);
  if (!found) return null;
  return lines.slice(found.start + 1, found.closed ? found.end : found.end + 1)
    .join("\n");
}

/** `body` between the markers (trailing newlines of `body` dropped). */
function wrapBlock(body: string, markers: BlockMarkers): string {
  return `${markers.begin}\n${body.replace(/\n+$/, "")}\n${markers.end}`;
}

/** Options of {@link upsertBlock}. */
export type UpsertBlockOptions = {
  /** Put a blank line between the file's text and an appended block (default true). */
  gap?: boolean;
};

/**
 * `text` with its block's body set to `body`: an existing block is replaced
 * in place; otherwise the block is appended (after a blank line unless
 * `gap: false`); an empty file becomes the block alone. The result ends
 * with a newline. Idempotent: the same body twice gives the same text.
 *
 * @example
 * ```ts
 * import { upsertBlock } from "./managed_block.ts";
 * const m = { begin: "# >>> x", end: "# <<< x" };
 * upsertBlock("a\n", "b", m); // "a\n\n# >>> x\nb\n# <<< x\n"
 * ```
 */
export function upsertBlock(
  text: string,
  body: string,
  markers: BlockMarkers,
  opts: UpsertBlockOptions = {},
): string {
  const block = wrapBlock(body, markers);
  if (text.trim() === "") return block + "\n";
  const lines = text.split("\n");
  const found = findBlock(lines, markers);
  if (found) {
    const out = [
      ...lines.slice(0, found.start),
      ...block.split("\n"),
      ...lines.slice(found.end + 1),
    ].join("\n");
    return out.endsWith("\n") ? out : out + "\n";
  }
  const base = text.replace(/\n*$/, "");
  return `${base}\n${opts.gap === false ? "" : "\n"}${block}\n`;
}

/**
 * `text` without its block and one blank line next to it (the one before it
 * when there is one, else the one after); "" when nothing else is left.
 * Text without a block comes back unchanged.
 */
export function removeBlock(text: string, markers: BlockMarkers): string {
  const lines = text.split("\n");
  const found = findBlock(lines, markers);
  if (!found) return text;
  let { start, end } = found;
  if (start > 0 && lines[start - 1]!.trim() === "") start--;
  else if (end + 2 < lines.length && lines[end + 1]!.trim() === "") {
    // Only a real blank line, never the empty string after the final "\n".
    end++;
  }
  const out = [...lines.slice(0, start), ...lines.slice(end + 1)].join("\n");
  return out.trim() === "" ? "" : out;
}
