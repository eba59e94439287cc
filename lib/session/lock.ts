/**
 * The session lock `<repo>/.git-paw/session.lock`: one holder at a time for
 * every command that changes a session (start, stop, purge, pause, add,
 * remove). The file holds the holder's pid, hostname and start time; a lock
 * left by a process that is gone (same host) is taken over.
 *
 * Needs `--allow-read`, `--allow-write`, `--allow-sys` (hostname),
 * `--allow-run=kill` where `/proc` is missing.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { AppError } from "../core/errors.ts";

/** What the lock file records. */
export const LockInfo = z.object({
  pid: z.number().int(),
  hostname: z.string(),
  started_at: z.string(),
  command: z.string().optional(),
});
/** What the lock file records. */
export type LockInfo = z.infer<typeof LockInfo>;

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

/** True when process `pid` exists on this machine. */
export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return true;
  }
  // No /proc entry: either gone, or no /proc at all (macOS).
  try {
    Deno.statSync("/proc/self");
    return false;
  } catch {
    const r = new Deno.Command("kill", {
      args: ["-0", String(pid)],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return r.success;
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

async function readLock(path: string): Promise<LockInfo | null | "garbled"> {
  try {
    const r = LockInfo.safeParse(JSON.parse(await Deno.readTextFile(path)));
    return r.success ? r.data : "garbled";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    return "garbled";
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
    try {
      const f = await Deno.open(path, { write: true, createNew: true });
      try {
        await f.write(new TextEncoder().encode(body));
      } finally {
        f.close();
      }
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        const cur = await readLock(path);
        if (
          cur && cur !== "garbled" && cur.pid === me.pid &&
          cur.started_at === me.started_at
        ) {
          await Deno.remove(path).catch(() => {});
        }
      };
      return { path, release, [Symbol.asyncDispose]: release };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const holder = await readLock(path);
    if (holder === null) continue; // released meanwhile
    if (holder === "garbled") {
      // A holder may be between create and write; give it a moment.
      garbledSince ??= Date.now();
      if (Date.now() - garbledSince > 1000) {
        await Deno.remove(path).catch(() => {});
        continue;
      }
    } else if (holder.hostname === me.hostname && !pidAlive(holder.pid)) {
      // Stale: remove it only if it is still the same stale content.
      const again = await readLock(path);
      if (
        again && again !== "garbled" && again.pid === holder.pid &&
        again.started_at === holder.started_at
      ) {
        opts.onTakeover?.(holder);
        await Deno.remove(path).catch(() => {});
      }
      continue;
    } else if (Date.now() >= deadline) {
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
