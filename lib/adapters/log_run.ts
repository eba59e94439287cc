/**
 * Run a program with its stdout and stderr written to a log file (owner-only,
 * truncated first) instead of collected: for long, chatty commands such as a
 * worktree's `[worktree] setup`. Argv arrays only, never a shell.
 *
 * Needs `--allow-run` for the program, `--allow-write` for the log.
 * @module
 */

/** Options for {@link runToLog}. */
export type RunToLogOptions = {
  cwd: string;
  /** Extra environment variables (merged over the current environment). */
  env?: Record<string, string>;
  /** Log file; created with mode 0600, truncated unless `append`. */
  log: string;
  /** Append to the log instead of truncating it. */
  append?: boolean;
  /** Stop the program (SIGTERM) after this many milliseconds. */
  timeoutMs?: number;
};

/** How the program ended. */
export type LoggedResult = {
  /** Exit code; 127 when the program could not be started. */
  code: number;
  timedOut: boolean;
  ms: number;
};

const enc = new TextEncoder();
/** How long output is still read after the program ended. */
const DRAIN_GRACE_MS = 1000;

/** Run `argv` in `opts.cwd` with stdin closed, output into `opts.log`. */
export async function runToLog(
  argv: readonly string[],
  opts: RunToLogOptions,
): Promise<LoggedResult> {
  const t0 = performance.now();
  const file = await Deno.open(opts.log, {
    write: true,
    create: true,
    append: opts.append ?? false,
    truncate: !(opts.append ?? false),
    mode: 0o600,
  });
  // Both streams share the file: one write at a time, in arrival order.
  let chain = Promise.resolve();
  const put = (bytes: Uint8Array) => {
    chain = chain.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
    });
    return chain;
  };
  try {
    await put(enc.encode(`$ ${argv.map(quoteWord).join(" ")}\n`));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        cwd: opts.cwd,
        ...(opts.env ? { env: opts.env } : {}),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      await put(enc.encode(`cannot run ${argv[0]}: ${(e as Error).message}\n`));
      return { code: 127, timedOut: false, ms: performance.now() - t0 };
    }
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    }, opts.timeoutMs);
    const readers = [child.stdout.getReader(), child.stderr.getReader()];
    const drains = Promise.all(readers.map(async (r) => {
      try {
        for (;;) {
          const { done, value } = await r.read();
          if (done) return;
          await put(value);
        }
      } catch { /* cancelled below */ }
    }));
    const status = await child.status;
    clearTimeout(timer);
    // A process the program left running (a daemon, a dev server) may
    // hold the pipes open: read what is there, then stop listening.
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      drains,
      new Promise((r) => grace = setTimeout(r, DRAIN_GRACE_MS)),
    ]);
    clearTimeout(grace);
    await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
    if (timedOut) {
      await put(
        enc.encode(`stopped after ${Math.round(opts.timeoutMs! / 1000)}s\n`),
      );
    }
    const code = status.code !== 0 ? status.code : timedOut ? 124 : 0;
    return { code, timedOut, ms: performance.now() - t0 };
  } finally {
    await chain.catch(() => {});
    file.close();
  }
}

/** A word as a reader would retype it in a shell (for the log's first line). */
function quoteWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}
