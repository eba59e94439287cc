/**
 * Lock files that name their holder's pid: atomic creation, a liveness
 * check of the holder that needs no `/proc`, and takeover of a lock whose
 * holder is gone. Used by the session lock and the broker's log lock.
 *
 * Needs `--allow-read`, `--allow-write`, and `--allow-run` (unscoped, for
 * `Deno.kill`); with a scoped `--allow-run` the check falls back to
 * `/proc`, then to `kill -0` (`--allow-run=kill`).
 * @module
 */
import { run } from "./runner.ts";
import { readTextOrNull } from "./fs.ts";

/**
 * Create `path` with `text` only if it does not exist (`O_EXCL`): true when
 * this call created it, false when it was there already.
 */
export async function createNew(path: string, text: string): Promise<boolean> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
  try {
    await f.write(new TextEncoder().encode(text));
  } finally {
    f.close();
  }
  return true;
}

/**
 * True when process `pid` exists on this machine. Probes with
 * `Deno.kill(pid, "SIGURG")` — a signal whose default action is to do
 * nothing, so a live holder is not disturbed (unlike `SIGCONT`, which would
 * resume a stopped one): no such process → `NotFound` (ESRCH); a process of
 * another user → `PermissionDenied` (EPERM), alive. Without the permission
 * for `Deno.kill`: `/proc/<pid>` where there is a `/proc`, else `kill -0`.
 */
export async function pidAlive(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    Deno.kill(pid, "SIGURG");
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    if (!(e instanceof Deno.errors.NotCapable)) return true;
  }
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return true;
  }
  try {
    await Deno.stat("/proc/self");
    return false; // there is a /proc, and pid is not in it
  } catch {
    try {
      return (await run("kill", ["-0", String(pid)])).code === 0;
    } catch {
      return true; // cannot tell: do not take a lock that may be held
    }
  }
}

/** The lock text's pid: the whole text as a decimal number by default. */
function plainPid(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

/** Options for {@link tryPidLock}. */
export type PidLockOptions = {
  /** The holder's pid in a lock's text, null when garbled (default: the text is the pid). */
  pidOf?: (text: string) => number | null;
  /**
   * False when the holder cannot be checked from here (another host): such
   * a lock is never taken over. Default: always true.
   */
  local?: (text: string) => boolean;
  /** Take over a lock naming this very process (a crashed earlier open). */
  takeOwnPid?: boolean;
  /** Called with the text of a stale lock just taken over. */
  onTakeover?: (text: string) => void;
};

/** What {@link tryPidLock} found. */
export type PidLockAttempt =
  | { kind: "acquired" }
  | { kind: "held"; pid: number; text: string }
  | { kind: "garbled"; text: string };

/**
 * One attempt at the lock `path`, writing `body` when it is free: a lock
 * whose holder is dead (or, with `takeOwnPid`, is this process) is removed
 * and the creation retried; a live holder or text naming no pid is
 * reported, for the caller to wait, fail or {@link removeIfUnchanged}.
 */
export async function tryPidLock(
  path: string,
  body: string,
  opts: PidLockOptions = {},
): Promise<PidLockAttempt> {
  const pidOf = opts.pidOf ?? plainPid;
  for (;;) {
    if (await createNew(path, body)) return { kind: "acquired" };
    const text = await readTextOrNull(path);
    if (text === null) continue; // released meanwhile
    const pid = pidOf(text);
    if (pid === null) return { kind: "garbled", text };
    const local = opts.local?.(text) ?? true;
    const stale = local &&
      ((opts.takeOwnPid && pid === Deno.pid) || !await pidAlive(pid));
    if (!stale) return { kind: "held", pid, text };
    // Remove it only if it is still the same stale lock.
    if (await removeIfUnchanged(path, text)) opts.onTakeover?.(text);
  }
}

/**
 * Remove `path` when it still holds exactly `text` (a release by its holder,
 * or a takeover of what was read a moment ago). True when removed.
 */
export async function removeIfUnchanged(
  path: string,
  text: string,
): Promise<boolean> {
  if ((await readTextOrNull(path)) !== text) return false;
  try {
    await Deno.remove(path);
    return true;
  } catch {
    return false;
  }
}
