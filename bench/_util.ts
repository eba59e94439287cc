/**
 * Small parts the benchmarks share: the median, and a process's CPU time
 * from `/proc` (Linux) with the clock-tick rate to read it by.
 * @module
 */
import { cpuTicksOf } from "../lib/adapters/proc_tree.ts";

/** The median of `xs` (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** CPU time (user + system, every thread) of process `pid`, in ticks. */
export function cpuTicks(pid: number): number {
  const ticks = cpuTicksOf(Deno.readTextFileSync(`/proc/${pid}/stat`));
  if (ticks === null) throw new Error(`/proc/${pid}/stat: no CPU times`);
  return ticks;
}

let hz: Promise<number> | null = null;

/** Clock ticks per second (`getconf CLK_TCK`, else Linux's usual 100); asked once. */
export function clockTicks(): Promise<number> {
  return hz ??= askClockTicks();
}

async function askClockTicks(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", {
      args: ["CLK_TCK"],
      stdout: "piped",
    }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
