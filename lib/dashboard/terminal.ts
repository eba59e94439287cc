/**
 * The terminal seam of the dashboard TUI: a real implementation on
 * Deno.stdin/stdout (alternate screen, raw mode, SIGWINCH, restore on exit,
 * crash and signals), a null one for benchmarks and tests, and
 * {@link ScreenWriter}, which repaints only the lines that changed.
 *
 * Needs no permission beyond a TTY; `--allow-env` for `NO_COLOR`.
 * @module
 */

/** Columns × rows. */
export type TerminalSize = { columns: number; rows: number };

/** What the TUI needs from a terminal. */
export interface Terminal {
  /** Emit colour (false when NO_COLOR is set). */
  readonly color: boolean;
  size(): TerminalSize;
  write(text: string): void;
  /** Alternate screen, hidden cursor, raw input (when stdin is a TTY). */
  enter(): void;
  /** Undo {@link enter}. Idempotent; safe to call from any exit path. */
  restore(): void;
  /** Raw input chunks until {@link closeInput}; null when there is none. */
  input(): AsyncIterable<string> | null;
  closeInput(): void;
  /** Call `fn` when the size changes; returns an unsubscribe. */
  onResize(fn: () => void): () => void;
}

const ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const RESTORE = "\x1b[0m\x1b[?1049l\x1b[?25h";

function noColor(): boolean {
  try {
    return Deno.env.get("NO_COLOR") !== undefined;
  } catch {
    return false;
  }
}

/**
 * The real terminal on stdin/stdout. Restores the screen and the tty mode on
 * `restore()`, on process exit (`unload`), on an uncaught error or unhandled
 * rejection (the crash still propagates afterwards).
 */
export function createRealTerminal(): Terminal {
  const enc = new TextEncoder();
  const stdinTty = safe(() => Deno.stdin.isTerminal(), false);
  const stdoutTty = safe(() => Deno.stdout.isTerminal(), false);
  let entered = false;
  let raw = false;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  const write = (text: string) => {
    const bytes = enc.encode(text);
    let off = 0;
    while (off < bytes.length) {
      off += Deno.stdout.writeSync(bytes.subarray(off));
    }
  };
  const onCrash = () => term.restore();
  const term: Terminal = {
    color: !noColor(),
    size() {
      try {
        const s = Deno.consoleSize();
        if (s.columns > 0 && s.rows > 0) return s;
      } catch { /* not a tty */ }
      return { columns: 80, rows: 24 };
    },
    write,
    enter() {
      if (entered) return;
      entered = true;
      globalThis.addEventListener("unload", onCrash);
      globalThis.addEventListener("error", onCrash);
      globalThis.addEventListener("unhandledrejection", onCrash);
      if (stdinTty) {
        try {
          Deno.stdin.setRaw(true, { cbreak: false });
          raw = true;
        } catch { /* leave cooked */ }
      }
      if (stdoutTty) write(ENTER);
    },
    restore() {
      if (!entered) return;
      entered = false;
      globalThis.removeEventListener("unload", onCrash);
      globalThis.removeEventListener("error", onCrash);
      globalThis.removeEventListener("unhandledrejection", onCrash);
      try {
        if (stdoutTty) write(RESTORE);
      } catch { /* stdout gone */ }
      if (raw) {
        try {
          Deno.stdin.setRaw(false);
        } catch { /* ignore */ }
        raw = false;
      }
    },
    input() {
      if (!stdinTty) return null;
      const dec = new TextDecoder();
      reader = Deno.stdin.readable.getReader();
      const r = reader;
      return {
        async *[Symbol.asyncIterator]() {
          while (true) {
            let res: ReadableStreamReadResult<Uint8Array>;
            try {
              res = await r.read();
            } catch {
              return;
            }
            if (res.done) return;
            yield dec.decode(res.value, { stream: true });
          }
        },
      };
    },
    closeInput() {
      const r = reader;
      reader = null;
      if (r) {
        r.cancel().catch(() => {});
        try {
          r.releaseLock();
        } catch { /* pending read */ }
      }
    },
    onResize(fn) {
      if (Deno.build.os === "windows") return () => {};
      try {
        Deno.addSignalListener("SIGWINCH", fn);
      } catch {
        return () => {};
      }
      return () => {
        try {
          Deno.removeSignalListener("SIGWINCH", fn);
        } catch { /* ignore */ }
      };
    },
  };
  return term;
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/**
 * Paints frames, rewriting only the lines that differ from the previous
 * frame; a size change repaints everything.
 */
export class ScreenWriter {
  #prev: string[] = [];
  #size: TerminalSize | null = null;
  constructor(readonly term: Terminal) {}

  /** Forget what is on screen (next draw repaints all). */
  invalidate(): void {
    this.#prev = [];
    this.#size = null;
  }

  /** Draw `lines` (one per row); returns the number of rows written. */
  draw(lines: readonly string[], size: TerminalSize): number {
    let out = "";
    const full = !this.#size || this.#size.columns !== size.columns ||
      this.#size.rows !== size.rows;
    if (full) out += "\x1b[0m\x1b[H\x1b[2J";
    let n = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!full && this.#prev[i] === line) continue;
      out += `\x1b[${i + 1};1H\x1b[0m\x1b[2K${line}\x1b[0m`;
      n++;
    }
    if (out) this.term.write(out);
    this.#prev = lines.slice();
    this.#size = size;
    return n;
  }
}
