/**
 * The names of git-paw's files in a worktree's git dir, apart from the
 * marker's schema ({@link ./marker.ts} brings zod): the MCP server's fast
 * start reads the marker without it.
 * @module
 */

/** File name of the marker inside a worktree's git dir. */
export const MARKER_FILE = "paw-agent-id";

/** Cursor file name inside a worktree's git dir (`git paw inbox`). */
export const CURSOR_FILE = "paw-inbox-cursor";
