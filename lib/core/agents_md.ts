/**
 * The git-paw managed block inside an AGENTS.md file (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"): inject,
 * replace and strip it while keeping every other line of the file. Pure.
 * @module
 */

/** First line of the managed block. */
export const BLOCK_START =
  "<!-- git-paw:start — managed by git-paw, do not edit manually -->";
/** Last line of the managed block. */
export const BLOCK_END = "<!-- git-paw:end -->";

/** A start line is recognised by this prefix (older wordings included). */
const START_PREFIX = "<!-- git-paw:start";
/** An end line is recognised when it contains this text. */
const END_TEXT = "<!-- git-paw:end -->";

/** Where the block sits inside `lines`: [start, end] inclusive, or null. */
function findBlock(lines: string[]): { start: number; end: number } | null {
  const start = lines.findIndex((l) => l.trimStart().startsWith(START_PREFIX));
  if (start < 0) return null;
  // A missing end marker means the block runs to the end of the file (the
  // empty string after a final newline is not part of it).
  let end = lines.length - 1;
  if (end > start && lines[end] === "") end--;
  for (let i = start + 1; i < lines.length; i++) {
    if (lines[i].includes(END_TEXT)) {
      end = i;
      break;
    }
  }
  return { start, end };
}

/** Wrap `body` in the start/end markers (no trailing newline handling). */
export function wrapBlock(body: string): string {
  return `${BLOCK_START}\n${body.replace(/\n+$/, "")}\n${BLOCK_END}`;
}

/** True when `content` holds a managed block. */
export function hasBlock(content: string): boolean {
  return findBlock(content.split("\n")) !== null;
}

/**
 * Put `body` (without markers) into `content` as the managed block:
 * empty content → the block alone; an existing block → replaced in place
 * (a missing end marker means the old block ran to the end of the file);
 * otherwise the block is appended after one blank line.
 *
 * @example
 * ```ts
 * injectBlock("# Repo\n", "hello"); // "# Repo\n\n<!-- git-paw:start …-->\nhello\n<!-- git-paw:end -->\n"
 * ```
 */
export function injectBlock(content: string, body: string): string {
  const block = wrapBlock(body);
  if (content.trim() === "") return block + "\n";
  const lines = content.split("\n");
  const found = findBlock(lines);
  if (found) {
    const before = lines.slice(0, found.start);
    const after = lines.slice(found.end + 1);
    const out = [...before, ...block.split("\n"), ...after].join("\n");
    return out.endsWith("\n") ? out : out + "\n";
  }
  const base = content.replace(/\n*$/, "");
  return `${base}\n\n${block}\n`;
}

/**
 * Remove the managed block and one blank line next to it (the one before it
 * when there is one, else the one after). Content without a block comes back
 * unchanged.
 */
export function stripBlock(content: string): string {
  const lines = content.split("\n");
  const found = findBlock(lines);
  if (!found) return content;
  let { start, end } = found;
  if (start > 0 && lines[start - 1].trim() === "") start--;
  else if (end + 1 < lines.length && lines[end + 1].trim() === "") {
    // Keep the file's final newline: only eat a real blank line, not the
    // empty string after the last "\n".
    if (end + 2 < lines.length) end++;
  }
  const out = [...lines.slice(0, start), ...lines.slice(end + 1)];
  const joined = out.join("\n");
  return joined.trim() === "" ? "" : joined;
}

/** The body (between the markers) of the managed block, or null. */
export function blockBody(content: string): string | null {
  const lines = content.split("\n");
  const found = findBlock(lines);
  if (!found) return null;
  const closed = found.end > found.start &&
    lines[found.end].includes(END_TEXT);
  return lines.slice(found.start + 1, closed ? found.end : found.end + 1)
    .join("\n");
}
