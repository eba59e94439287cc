/**
 * Synchronous existence and stat checks on Deno's own API (cheaper to load
 * than `node:fs`, which costs ~20 ms of start-up).
 * @module
 */

/** True when `path` exists (following symlinks). */
export function existsSync(path: string): boolean {
  return statOrNull(path) !== null;
}

/** `Deno.statSync(path)`, or null when it does not exist or is unreadable. */
export function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}
