/**
 * Processes by `/proc` (Linux): the process table (parent, start time),
 * descendants of some roots, processes whose environment carries a given
 * entry, and ending a set of processes — SIGTERM, a grace period, then
 * SIGKILL for whatever ignored it. A pid is only signalled while its start
 * time is the one seen first, so a recycled pid is never hit. Where there is
 * no `/proc` the table is empty and nothing is signalled.
 *
 * Needs `--allow-read=/proc` and `--allow-run` (unscoped, for `Deno.kill`).
 * @module
 */

/**
 * One process: its parent, its start time (clock ticks since boot) and its
 * state letter (`Z` = a zombie, already ended).
 */
export type ProcInfo = { ppid: number; start: string; state: string };

/**
 * The fields of `/proc/<pid>/stat` text after the command name (the state
 * letter first); null when garbled. The command name is in parentheses and
 * may hold anything: the fields start past the last `)`.
 */
function statFields(text: string): string[] | null {
  const close = text.lastIndexOf(")");
  return close < 0 ? null : text.slice(close + 2).split(" ");
}

/** Parse `/proc/<pid>/stat` text; null when garbled. Pure. */
export function parseStat(text: string): ProcInfo | null {
  const f = statFields(text);
  if (f === null) return null;
  const ppid = Number(f[1]);
  const start = f[19];
  if (!Number.isInteger(ppid) || start === undefined) return null;
  return { ppid, start, state: f[0] ?? "" };
}

/**
 * CPU time used so far (utime + stime, every thread, in clock ticks) from
 * `/proc/<pid>/stat` text; null when garbled. Pure.
 */
export function cpuTicksOf(text: string): number | null {
  const f = statFields(text);
  const ticks = Number(f?.[11]) + Number(f?.[12]);
  return Number.isFinite(ticks) ? ticks : null;
}

async function readStat(pid: number): Promise<ProcInfo | null> {
  try {
    return parseStat(await Deno.readTextFile(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
}

/** Every process visible in `/proc` (empty without one). */
export async function processTable(): Promise<Map<number, ProcInfo>> {
  const table = new Map<number, ProcInfo>();
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir("/proc"));
  } catch {
    return table;
  }
  await Promise.all(entries.map(async (e) => {
    if (!/^\d+$/.test(e.name)) return;
    const info = await readStat(Number(e.name));
    if (info) table.set(Number(e.name), info);
  }));
  return table;
}

/** `roots` and all their descendants present in `table`. Pure. */
export function descendants(
  table: Map<number, ProcInfo>,
  roots: Iterable<number>,
): Set<number> {
  const children = new Map<number, number[]>();
  for (const [pid, p] of table) {
    let list = children.get(p.ppid);
    if (!list) children.set(p.ppid, list = []);
    list.push(pid);
  }
  const out = new Set<number>();
  const todo = [...roots].filter((p) => table.has(p));
  while (todo.length) {
    const pid = todo.pop()!;
    if (out.has(pid)) continue;
    out.add(pid);
    for (const c of children.get(pid) ?? []) todo.push(c);
  }
  return out;
}

/** `pid` and its ancestors in `table`. Pure. */
export function ancestors(
  table: Map<number, ProcInfo>,
  pid: number,
): Set<number> {
  const out = new Set<number>();
  for (let p: number | undefined = pid; p && !out.has(p);) {
    out.add(p);
    p = table.get(p)?.ppid;
  }
  return out;
}

/**
 * Pids in `table` whose environment holds every one of `entries` exactly
 * (`NAME=value`). Processes of other users cannot be read and never match.
 */
export async function processesWithEnv(
  table: Map<number, ProcInfo>,
  entries: readonly string[],
): Promise<Set<number>> {
  const out = new Set<number>();
  if (entries.length === 0) return out;
  const enc = new TextEncoder();
  const wants = entries.map((e) => enc.encode(e));
  await Promise.all([...table.keys()].map(async (pid) => {
    let raw: Uint8Array;
    try {
      raw = await Deno.readFile(`/proc/${pid}/environ`);
    } catch {
      return;
    }
    const found = new Array<boolean>(wants.length).fill(false);
    let i = 0;
    while (i < raw.length) {
      let j = raw.indexOf(0, i);
      if (j < 0) j = raw.length;
      for (const [n, want] of wants.entries()) {
        if (!found[n] && sameBytes(raw, i, j, want)) found[n] = true;
      }
      i = j + 1;
    }
    if (found.every((f) => f)) out.add(pid);
  }));
  return out;
}

/** True when `raw[from, to)` is `want`. */
function sameBytes(
  raw: Uint8Array,
  from: number,
  to: number,
  want: Uint8Array,
): boolean {
  if (to - from !== want.length) return false;
  for (let k = 0; k < want.length; k++) {
    if (raw[from + k] !== want[k]) return false;
  }
  return true;
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch { /* gone, or not ours */ }
}

/**
 * End `pids` (as seen in `table`): SIGTERM, then SIGKILL after `graceMs`
 * for those still running with the same start time.
 * @returns the pids that had to be killed with SIGKILL
 */
export async function endProcesses(
  table: Map<number, ProcInfo>,
  pids: Iterable<number>,
  graceMs = 1500,
): Promise<number[]> {
  const same = async (pid: number) => {
    const now = await readStat(pid);
    return now !== null && now.state !== "Z" &&
      now.start === table.get(pid)?.start;
  };
  const live = async (list: number[]) => {
    const ok = await Promise.all(list.map(same));
    return list.filter((_, i) => ok[i]);
  };
  let left = await live([...pids].filter((p) => table.has(p)));
  for (const pid of left) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = await live(left);
  }
  for (const pid of left) signal(pid, "SIGKILL");
  return left;
}
