/**
 * The machine's port registry `<data>/git-paw/ports.json`: which block of
 * dev ports each agent of each git-paw session holds, so no two agents of
 * this user's sessions get the same `PORT`. Changed only under the lock
 * `ports.json.lock`; entries of sessions whose receipt is gone (purged, or
 * a start that failed) are dropped whenever the registry is written.
 *
 * Needs `--allow-read`, `--allow-write`, `--allow-env`, `--allow-net`
 * (bind probes on 127.0.0.1).
 * @module
 */
import { dirname, join } from "node:path";
import { AppError } from "../core/errors.ts";
import {
  allocateBlock,
  overlaps,
  parsePortRegistry,
  type PortBlock,
  type PortEntry,
  type PortRegistry,
} from "../core/ports.ts";
import { readTextOrNull, writeTextAtomic } from "../adapters/fs.ts";
import { removeIfUnchanged, tryPidLock } from "../adapters/pid_lock.ts";
import type { Receipt } from "../core/session.ts";
import { readReceipt, receiptsDir } from "./receipt.ts";

/** The registry file. */
export function portRegistryPath(): string {
  return join(dirname(receiptsDir()), "ports.json");
}

/** How long a command waits for another one's registry lock. */
const LOCK_WAIT_MS = 10_000;
/** How long a lock naming no pid must stay so before it is removed. */
const GARBLED_MS = 2000;

/** Run `fn` holding the registry lock (a pid lock; a dead holder's is taken over). */
async function withRegistryLock<T>(fn: () => Promise<T>): Promise<T> {
  const path = `${portRegistryPath()}.lock`;
  await Deno.mkdir(dirname(path), { recursive: true });
  const body = String(Deno.pid);
  const started = Date.now();
  // Text naming no pid is a lock being written (created, not yet filled)
  // unless it stays so: only then is it removed.
  let garbled = null as { text: string; since: number } | null;
  for (;;) {
    const a = await tryPidLock(path, body);
    if (a.kind === "acquired") break;
    if (a.kind === "garbled") {
      if (garbled?.text !== a.text) {
        garbled = { text: a.text, since: Date.now() };
      } else if (Date.now() - garbled.since > GARBLED_MS) {
        await removeIfUnchanged(path, a.text);
        garbled = null;
      }
    } else garbled = null;
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new AppError(
        `Session error: the port registry ${portRegistryPath()} stayed locked by pid ${
          a.kind === "held" ? a.pid : "?"
        } for ${LOCK_WAIT_MS / 1000}s`,
        "ports_locked",
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    return await fn();
  } finally {
    await removeIfUnchanged(path, body);
  }
}

async function readRegistry(): Promise<PortRegistry> {
  const text = await readTextOrNull(portRegistryPath());
  if (text === null) return { version: 1, entries: [] };
  try {
    return parsePortRegistry(JSON.parse(text));
  } catch {
    return { version: 1, entries: [] };
  }
}

async function writeRegistry(reg: PortRegistry): Promise<void> {
  await writeTextAtomic(
    portRegistryPath(),
    JSON.stringify(reg, null, 2) + "\n",
    { mode: 0o600 },
  );
}

/** Entries whose session still has its receipt, for the same repo. */
async function liveEntries(entries: PortEntry[]): Promise<PortEntry[]> {
  const alive = new Map<string, boolean>();
  for (const e of entries) {
    const key = `${e.session}\0${e.repo}`;
    if (alive.has(key)) continue;
    let ok: boolean;
    try {
      const r = await readReceipt(e.session);
      ok = r !== null && r.repo_path === e.repo;
    } catch {
      ok = true; // a corrupt receipt: its session may still run
    }
    alive.set(key, ok);
  }
  return entries.filter((e) => alive.get(`${e.session}\0${e.repo}`));
}

/** True when nothing on this machine listens on 127.0.0.1:`port`. */
function canBind(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** What {@link reservePorts} needs. */
export type ReservePortsOptions = {
  session: string;
  repo: string;
  /** Agents wanting a block. */
  branches: readonly string[];
  /** Ports per block; 0 = none (an empty map). */
  count: number;
  /** Blocks the receipt recorded (recovery): kept unless another session holds them now. */
  keep?: ReadonlyMap<string, PortBlock>;
  /** Bind probe (tests). */
  isFree?: (port: number) => boolean;
};

/**
 * A block of ports for each of `branches` of `session`: the one the
 * registry (or `keep`) already gives it, else the lowest free block. The
 * session's receipt must exist (a placeholder will do): blocks of sessions
 * without one are freed.
 * @throws {AppError} `ports_full` when the range has no room left
 */
export async function reservePorts(
  opts: ReservePortsOptions,
): Promise<Map<string, PortBlock>> {
  const out = new Map<string, PortBlock>();
  if (opts.branches.length === 0) return out;
  const isFree = opts.isFree ?? canBind;
  return await withRegistryLock(async () => {
    const reg = await readRegistry();
    const entries = await liveEntries(reg.entries);
    const mine = (e: PortEntry) =>
      e.session === opts.session && e.repo === opts.repo;
    for (const branch of opts.branches) {
      const held = entries.find((e) => mine(e) && e.branch === branch);
      if (held) {
        out.set(branch, { first: held.first, count: held.count });
        continue;
      }
      if (opts.count === 0 && !opts.keep?.has(branch)) continue;
      const others = entries.filter((e) => !(mine(e) && e.branch === branch));
      const kept = opts.keep?.get(branch);
      let block: PortBlock | null = kept &&
          !others.some((e) => overlaps(e, kept))
        ? kept
        : null;
      block ??= allocateBlock(others, opts.count || kept!.count, { isFree });
      if (!block) {
        throw new AppError(
          `Session error: no free block of ${opts.count} ports left for '${branch}'; purge old sessions or lower [worktree] ports`,
          "ports_full",
        );
      }
      entries.push({
        session: opts.session,
        repo: opts.repo,
        branch,
        ...block,
      });
      out.set(branch, block);
    }
    await writeRegistry({ version: 1, entries });
    return out;
  });
}

/**
 * Give back the blocks of `session` (of one `branch` when given) and drop
 * every entry whose session has no receipt any more. Never throws.
 */
export async function releasePorts(
  opts: { session: string; branch?: string },
): Promise<void> {
  try {
    await withRegistryLock(async () => {
      const reg = await readRegistry();
      if (reg.entries.length === 0) return;
      const kept = await liveEntries(
        reg.entries.filter((e) =>
          !(e.session === opts.session &&
            (opts.branch === undefined || e.branch === opts.branch))
        ),
      );
      await writeRegistry({ version: 1, entries: kept });
    });
  } catch { /* best effort: a stale entry is dropped on the next write */ }
}

/**
 * Give every agent of `receipt` its block: the one recorded (kept unless
 * another session holds it now), else a new one of `count` ports. Updates
 * `receipt.worktrees[].ports` in place (the caller writes the receipt).
 */
export async function assignReceiptPorts(
  receipt: Receipt,
  count: number,
): Promise<void> {
  const keep = new Map<string, PortBlock>();
  for (const w of receipt.worktrees) if (w.ports) keep.set(w.branch, w.ports);
  const got = await reservePorts({
    session: receipt.session_name,
    repo: receipt.repo_path,
    branches: receipt.worktrees.map((w) => w.branch),
    count,
    keep,
  });
  for (const w of receipt.worktrees) {
    const b = got.get(w.branch);
    if (b) w.ports = b;
  }
}
