/**
 * The per-worktree outbox: `<git-dir>/paw-outbox.jsonl`, owner-only (0600),
 * one message a line, oldest first. The agent helper and the post-commit
 * hook put there what they could not deliver (broker down, 5xx, no answer
 * in time) and deliver it, in order and before their own new message, on
 * their next call; the session broker ingests it when it starts
 * ({@link outboxPlugin}). Every queued message carries a client `msg_id`,
 * so the broker drops a second delivery (a lost answer, the hook and the
 * broker flushing at once): at-least-once with duplicates dropped.
 *
 * Bounded: at {@link OUTBOX_LIMITS} (entries or bytes) the oldest messages
 * are kept and a new one is not queued (the caller says so on stderr). Edits
 * happen under `<outbox>.lock` (a pid lock; a dead holder's lock is taken
 * over). A caller that cannot get the lock within its wait sends its new
 * message straight away instead (the holder is flushing, so the broker is
 * most likely up); when that fails too, the message is lost and the caller
 * says so.
 *
 * Needs `--allow-read`, `--allow-write` (the git dir), `--allow-run` (the
 * lock's liveness check).
 * @module
 */
import { join } from "node:path";
import { removeIfUnchanged, tryPidLock } from "../adapters/pid_lock.ts";
import { withLock } from "./_lock.ts";
import {
  OUTBOX_FILE,
  type OutboxMessage,
  type SendOutcome,
} from "./outbox_plain.ts";

export {
  newMsgId,
  OUTBOX_FILE,
  type OutboxMessage,
  outcomeOfStatus,
  type SendOutcome,
} from "./outbox_plain.ts";

/** The bound of one outbox. */
export const OUTBOX_LIMITS = { entries: 1000, bytes: 1 << 20 } as const;

/** Sends one message; `timeoutMs` is what is left of the caller's budget. */
export type OutboxSender = (
  message: OutboxMessage,
  timeoutMs: number,
) => Promise<SendOutcome>;

/** Options of {@link deliverThroughOutbox}. */
export type OutboxOptions = {
  send: OutboxSender;
  /** Stop starting sends after this long (ms); the rest waits. */
  budgetMs: number;
  /** Longest wait for one send (ms). */
  sendTimeoutMs: number;
  /** How long to wait for the lock (ms, default 1000). */
  lockWaitMs?: number;
};

/** What {@link deliverThroughOutbox} did. */
export type OutboxReport = {
  /** The new message: delivered, queued, refused, or lost (full / busy). */
  message:
    | { kind: "delivered" }
    | { kind: "queued"; detail: string }
    | { kind: "refused"; status: number; detail: string }
    | { kind: "lost"; detail: string }
    | { kind: "none" };
  /** Earlier messages delivered now. */
  flushed: number;
  /** Earlier messages the broker refused (dropped), with why. */
  dropped: string[];
  /** Messages still waiting afterwards. */
  waiting: number;
};

/** The outbox path for a worktree git dir. */
function outboxPath(gitDir: string): string {
  return join(gitDir, OUTBOX_FILE);
}

async function readEntries(path: string): Promise<OutboxMessage[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const out: OutboxMessage[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const v = JSON.parse(line);
      if (
        v && typeof v === "object" && !Array.isArray(v) &&
        typeof v.msg_id === "string"
      ) out.push(v as OutboxMessage);
    } catch { /* a torn line (crash mid-write): skip it */ }
  }
  return out;
}

/** Replace the outbox with `entries` (removed when empty), 0600. */
async function writeEntries(
  path: string,
  entries: OutboxMessage[],
): Promise<void> {
  if (entries.length === 0) {
    await Deno.remove(path).catch(() => {});
    return;
  }
  const tmp = `${path}.${Deno.pid}.tmp`;
  const text = entries.map((e) => JSON.stringify(e)).join("\n") + "\n";
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.chmod(tmp, 0o600).catch(() => {});
  await Deno.rename(tmp, path);
}

function fits(entries: OutboxMessage[], extra: OutboxMessage): boolean {
  if (entries.length + 1 > OUTBOX_LIMITS.entries) return false;
  let bytes = JSON.stringify(extra).length + 1;
  for (const e of entries) bytes += JSON.stringify(e).length + 1;
  return bytes <= OUTBOX_LIMITS.bytes;
}

/**
 * Run `fn` holding the outbox lock of `gitDir`; null when the lock stayed
 * held by a live process for `waitMs`.
 */
function withOutboxLock<T>(
  gitDir: string,
  waitMs: number,
  fn: () => Promise<T>,
): Promise<{ value: T } | null> {
  // One holder per process too (the lock file names only the pid).
  return withLock(
    `outbox:${gitDir}`,
    () => withFileLock(gitDir, waitMs, fn),
  );
}

async function withFileLock<T>(
  gitDir: string,
  waitMs: number,
  fn: () => Promise<T>,
): Promise<{ value: T } | null> {
  const lock = `${outboxPath(gitDir)}.lock`;
  const body = `${Deno.pid}\n`;
  const started = Date.now();
  for (;;) {
    const a = await tryPidLock(lock, body, { takeOwnPid: true });
    if (a.kind === "acquired") break;
    if (a.kind === "garbled") await removeIfUnchanged(lock, a.text);
    if (Date.now() - started >= waitMs) return null;
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    return { value: await fn() };
  } finally {
    await removeIfUnchanged(lock, body);
  }
}

/**
 * Deliver what waits in the outbox of `gitDir` (in order), then `message`
 * (null: only flush). A message that cannot be delivered now is queued
 * behind the others; one the broker refuses is dropped and reported.
 */
export async function deliverThroughOutbox(
  gitDir: string,
  message: OutboxMessage | null,
  opts: OutboxOptions,
): Promise<OutboxReport> {
  const path = outboxPath(gitDir);
  const started = Date.now();
  const left = () => opts.budgetMs - (Date.now() - started);
  const sendOne = (m: OutboxMessage) =>
    opts.send(m, Math.max(1, Math.min(opts.sendTimeoutMs, left())));
  // The common case, nothing waiting: send at once, no lock; queue it only
  // when it cannot go now.
  if (message && !(await outboxPending(gitDir))) {
    const r = await sendOne(message);
    if (r.kind !== "retry") {
      return {
        message: r.kind === "denied" ? { ...r, kind: "refused" } : r,
        flushed: 0,
        dropped: [],
        waiting: 0,
      };
    }
    return await enqueue(gitDir, message, r.detail, opts.lockWaitMs ?? 1000);
  }
  const locked = await withOutboxLock(
    gitDir,
    opts.lockWaitMs ?? 1000,
    async (): Promise<OutboxReport> => {
      const entries = await readEntries(path);
      const report: OutboxReport = {
        message: { kind: "none" },
        flushed: 0,
        dropped: [],
        waiting: 0,
      };
      let i = 0;
      let stalled: string | null = null;
      for (; i < entries.length; i++) {
        if (left() <= 0) {
          stalled = "out of time for this call";
          break;
        }
        const r = await sendOne(entries[i]!);
        if (r.kind === "retry" || r.kind === "denied") {
          stalled = r.detail;
          break;
        }
        if (r.kind === "delivered") report.flushed++;
        else report.dropped.push(`${r.status}: ${r.detail}`);
      }
      const rest = entries.slice(i);
      if (message) {
        if (stalled === null && left() > 0) {
          const r = await sendOne(message);
          if (r.kind === "retry") stalled = r.detail;
          else if (r.kind === "denied") {
            report.message = { ...r, kind: "refused" };
          } else report.message = r;
        } else stalled ??= "out of time for this call";
        if (stalled !== null) {
          if (fits(rest, message)) {
            rest.push(message);
            report.message = { kind: "queued", detail: stalled };
          } else {
            report.message = {
              kind: "lost",
              detail:
                `${stalled}; the outbox is full (${OUTBOX_LIMITS.entries} messages or ${OUTBOX_LIMITS.bytes} bytes), so this one was not kept`,
            };
          }
        }
      }
      if (i > 0 || report.message.kind === "queued") {
        await writeEntries(path, rest);
      }
      report.waiting = rest.length;
      return report;
    },
  );
  if (locked) return locked.value;
  // Another caller is flushing: send ours directly rather than wait.
  if (!message) {
    return { message: { kind: "none" }, flushed: 0, dropped: [], waiting: 0 };
  }
  const r = await sendOne(message);
  return {
    message: r.kind === "retry"
      ? { kind: "lost", detail: `${r.detail}; the outbox is busy` }
      : r.kind === "denied"
      ? { ...r, kind: "refused" }
      : r,
    flushed: 0,
    dropped: [],
    waiting: 0,
  };
}

/**
 * Queue `message`, which the broker could not take just now (`why`),
 * behind what waits, as {@link deliverThroughOutbox} does: `queued`, or
 * `lost` when the outbox is full or stays locked for `lockWaitMs`.
 */
export function queueUndelivered(
  gitDir: string,
  message: OutboxMessage,
  why: string,
  lockWaitMs = 1000,
): Promise<OutboxReport> {
  return enqueue(gitDir, message, why, lockWaitMs);
}

/** Append `message` (that just failed with `why`) behind what waits. */
async function enqueue(
  gitDir: string,
  message: OutboxMessage,
  why: string,
  lockWaitMs: number,
): Promise<OutboxReport> {
  const path = outboxPath(gitDir);
  const locked = await withOutboxLock(gitDir, lockWaitMs, async () => {
    const entries = await readEntries(path);
    if (!fits(entries, message)) {
      return {
        message: {
          kind: "lost" as const,
          detail:
            `${why}; the outbox is full (${OUTBOX_LIMITS.entries} messages or ${OUTBOX_LIMITS.bytes} bytes), so this one was not kept`,
        },
        flushed: 0,
        dropped: [],
        waiting: entries.length,
      };
    }
    entries.push(message);
    await writeEntries(path, entries);
    return {
      message: { kind: "queued" as const, detail: why },
      flushed: 0,
      dropped: [],
      waiting: entries.length,
    };
  });
  return locked?.value ?? {
    message: { kind: "lost", detail: `${why}; the outbox is busy` },
    flushed: 0,
    dropped: [],
    waiting: 0,
  };
}

/** True when the outbox of `gitDir` holds anything (no lock taken). */
export async function outboxPending(gitDir: string): Promise<boolean> {
  try {
    return (await Deno.stat(outboxPath(gitDir))).size > 0;
  } catch {
    return false;
  }
}
