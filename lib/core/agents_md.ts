/**
 * The git-paw managed block inside an AGENTS.md file (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"): inject,
 * replace and strip it while keeping every other line of the file. Pure.
 * @module
 */
import {
  blockBody as bodyOf,
  type BlockMarkers,
  hasBlock as has,
  removeBlock,
  upsertBlock,
} from "./managed_block.ts";

/** First line of the managed block. */
export const BLOCK_START =
  "<!-- git-paw:start — managed by git-paw, do not edit manually -->";
/** Last line of the managed block. */
export const BLOCK_END = "<!-- git-paw:end -->";

/**
 * A start line is recognised by its prefix (older wordings included), an
 * end line when it contains the end marker.
 */
const MARKERS: BlockMarkers = {
  begin: BLOCK_START,
  end: BLOCK_END,
  isBegin: (l) => l.trimStart().startsWith("<!-- git-paw:start"),
  isEnd: (l) => l.includes(BLOCK_END),
};

/** True when `content` holds a managed block. */
export function hasBlock(content: string): boolean {
  return has(content, MARKERS);
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
  return upsertBlock(content, body, MARKERS);
}

/**
 * Remove the managed block and one blank line next to it (the one before it
 * when there is one, else the one after). Content without a block comes back
 * unchanged.
 */
export function stripBlock(content: string): string {
  return removeBlock(content, MARKERS);
}

/** The body (between the markers) of the managed block, or null. */
export function blockBody(content: string): string | null {
  return bodyOf(content, MARKERS);
}
