/**
 * A terminal that draws nowhere, for the dashboard's tests and benchmark.
 * @module
 */
import type { Terminal, TerminalSize } from "../../lib/dashboard/terminal.ts";

/** A terminal that draws nowhere; counts what was written. */
export type NullTerminal = Terminal & {
  bytes: number;
  writes: number;
  /** Last text written, for tests. */
  output: string[];
  setSize(size: TerminalSize): void;
  /** Feed raw input as if typed. */
  type(text: string): void;
  entered: boolean;
};

/** A null terminal of the given size (for benchmarks and unit tests). */
export function createNullTerminal(
  size: TerminalSize = { columns: 120, rows: 40 },
  opts: { color?: boolean; keepOutput?: boolean } = {},
): NullTerminal {
  let current = size;
  const resize = new Set<() => void>();
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  const t: NullTerminal = {
    color: opts.color ?? true,
    bytes: 0,
    writes: 0,
    output: [],
    entered: false,
    size: () => current,
    write(text) {
      t.bytes += text.length;
      t.writes++;
      if (opts.keepOutput) t.output.push(text);
    },
    enter() {
      t.entered = true;
    },
    restore() {
      t.entered = false;
    },
    input() {
      return {
        async *[Symbol.asyncIterator]() {
          while (!closed) {
            const next = queue.shift();
            if (next !== undefined) {
              yield next;
              continue;
            }
            await new Promise<void>((r) => wake = r);
          }
        },
      };
    },
    closeInput() {
      closed = true;
      wake?.();
    },
    onResize(fn) {
      resize.add(fn);
      return () => resize.delete(fn);
    },
    setSize(s) {
      current = s;
      for (const fn of resize) fn();
    },
    type(text) {
      queue.push(text);
      const w = wake;
      wake = null;
      w?.();
    },
  };
  return t;
}
