/**
 * The session lock `<repo>/.git-paw/session.lock`: one holder at a time for
 * every command that changes a session (start, stop, purge, pause, add,
 * remove). The file holds the holder's pid, hostname and start time; a lock
 * left by a process that is gone (same host) is taken over.
 *
 * Needs `--allow-read`, `--allow-write`, `--allow-sys` (hostname),
 * `--allow-run` (the holder's liveness, see `pidAlive()`).
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { removeIfUnchanged, tryPidLock } from "../adapters/pid_lock.ts";

/** What the lock file records. */
const LockInfo = z.object({
  pid: z.number().int(),
  hostname: z.string(),
  started_at: z.string(),
  command: z.string().optional(),
});
/** What the lock file records. */
type LockInfo = z.infer<typeof LockInfo>;

/** Path of the session lock of `repo`. */
export function lockPath(repo: string): string {
  return join(repo, ".git-paw", "session.lock");
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/** A held lock; release it (idempotent) or use `await using`. */
export type SessionLock = {
  path: string;
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

/** Options for {@link acquireLock}. */
export type LockOptions = {
  /** What the holder is doing (shown to a waiting command). */
  command?: string;
  /** How long to wait for a live holder before failing (ms, default 10000). */
  waitMs?: number;
  /** Called once when a stale lock is taken over. */
  onTakeover?: (info: LockInfo) => void;
};

function parseLock(text: string): LockInfo | null {
  try {
    const r = LockInfo.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * Take the session lock of `repo`, waiting up to `waitMs` for a live holder
 * and taking over a lock whose holder is gone.
 * @throws {AppError} when another live process keeps holding it.
 */
export async function acquireLock(
  repo: string,
  opts: LockOptions = {},
): Promise<SessionLock> {
  const path = lockPath(repo);
  await Deno.mkdir(join(repo, ".git-paw"), { recursive: true });
  const me: LockInfo = {
    pid: Deno.pid,
    hostname: hostname(),
    started_at: new Date().toISOString(),
    command: opts.command,
  };
  const body = JSON.stringify(me) + "\n";
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  let delay = 50;
  let garbledSince: number | null = null;
  for (;;) {
    const got = await tryPidLock(path, body, {
      pidOf: (text) => parseLock(text)?.pid ?? null,
      local: (text) => parseLock(text)?.hostname === me.hostname,
      onTakeover: (text) => opts.onTakeover?.(parseLock(text)!),
    });
    if (got.kind === "acquired") {
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        await removeIfUnchanged(path, body);
      };
      return { path, release, [Symbol.asyncDispose]: release };
    }
    if (got.kind === "garbled") {
      // A holder may be between create and write; give it a moment.
      garbledSince ??= Date.now();
      if (Date.now() - garbledSince > 1000) {
        await removeIfUnchanged(path, got.text);
        continue;
      }
    } else if (Date.now() >= deadline) {
      const holder = parseLock(got.text)!;
      throw new AppError(
        `Session error: another git-paw command (${
          holder.command ?? "?"
        }, pid ${holder.pid} on ${holder.hostname}, since ${holder.started_at}) is changing this session. Wait for it to finish, or delete ${path} if that process is gone.`,
        "locked",
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 400);
  }
}
