/**
 * Runs subprocesses: always `Deno.Command` with an argv array, never a shell.
 * Needs `--allow-run` for the programs it starts.
 * @module
 */
import { AppError, CommandFailedError } from "../core/errors.ts";

/** Options for {@link run}. */
export type RunOptions = {
  /** Working directory of the child. */
  cwd?: string;
  /** Extra environment variables (merged over the current environment). */
  env?: Record<string, string>;
  /** Text written to the child's stdin (stdin is closed otherwise). */
  stdin?: string;
  /** Abort the child (killed with SIGTERM). */
  signal?: AbortSignal;
  /** Names removed from the inherited environment (before `env` applies). */
  unsetEnv?: readonly string[];
};

/** What a finished subprocess produced. */
export type RunResult = {
  /** Exit code (non-zero also when killed by a signal). */
  code: number;
  stdout: string;
  stderr: string;
};

const INSTALL_HINTS: Record<string, string> = {
  tmux:
    "tmux is required but not installed. Install with: brew install tmux (macOS) or apt install tmux (Linux)",
  git:
    "git is required but not installed. Install with: brew install git (macOS) or apt install git (Linux)",
};

/** The error for a program that is not installed. */
export function missingBinaryError(cmd: string, cause?: unknown): AppError {
  const msg = INSTALL_HINTS[cmd] ??
    `Cannot run '${cmd}': not found on PATH. Install it or fix PATH.`;
  return new AppError(msg, "missing_binary", { cause });
}

/**
 * A spawn's NotFound also means a missing working directory: the error for
 * that, or null when `cwd` is there (or not given).
 */
function missingCwd(
  cmd: string,
  cwd: string | undefined,
  cause: unknown,
): AppError | null {
  if (cwd === undefined) return null;
  try {
    Deno.statSync(cwd);
    return null;
  } catch {
    return new AppError(
      `Cannot run '${cmd}' in ${cwd}: no such directory`,
      "missing_dir",
      { cause },
    );
  }
}

const dec = new TextDecoder();

/**
 * Run `cmd args…` and collect its output. Never throws for a non-zero exit;
 * throws {@link AppError} (`missing_binary`) when `cmd` is not installed.
 *
 * @example
 * ```ts
 * import { run } from "./runner.ts";
 * const r = await run("git", ["--version"]);
 * // r.code === 0, r.stdout starts with "git version"
 * ```
 */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  if (ahead.size > 0 && opts.stdin === undefined && !opts.signal) {
    const k = aheadKey(cmd, args, opts);
    const early = ahead.get(k);
    if (early) {
      ahead.delete(k);
      return early;
    }
  }
  return runNow(cmd, args, opts);
}

/** Commands started by {@link runAhead}, not yet taken by {@link run}. */
const ahead = new Map<string, Promise<RunResult>>();

function aheadKey(
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
): string {
  return JSON.stringify([
    cmd,
    args,
    opts.cwd ?? null,
    opts.env ?? null,
    opts.unsetEnv ?? null,
  ]);
}

/**
 * Start a side-effect-free question now (e.g. `git rev-parse`, `tmux -V`):
 * the first {@link run} of the same command, directory and environment
 * takes its answer instead of starting it again. `main.ts` asks `start`'s
 * first questions this way while the command modules load.
 */
export function runAhead(
  cmd: string,
  args: readonly string[],
  opts: Pick<RunOptions, "cwd" | "env" | "unsetEnv"> = {},
): void {
  const p = runNow(cmd, args, opts);
  p.catch(() => {}); // whoever takes it sees the error
  ahead.set(aheadKey(cmd, args, opts), p);
}

async function runNow(
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<RunResult> {
  const command = new Deno.Command(cmd, {
    args: [...args],
    cwd: opts.cwd,
    ...childEnv(opts),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: opts.signal,
  });
  let out: Deno.CommandOutput;
  try {
    if (opts.stdin === undefined) {
      out = await command.output();
    } else {
      const child = command.spawn();
      const w = child.stdin.getWriter();
      try {
        await w.write(new TextEncoder().encode(opts.stdin));
        await w.close();
      } catch {
        // The child may exit without reading stdin; its status says the rest.
      }
      out = await child.output();
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw missingCwd(cmd, opts.cwd, e) ?? missingBinaryError(cmd, e);
    }
    throw e;
  }
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** `env`/`clearEnv` of `Deno.Command` for {@link RunOptions}. */
function childEnv(
  opts: Pick<RunOptions, "env" | "unsetEnv">,
): { env?: Record<string, string>; clearEnv?: boolean } {
  if (!opts.unsetEnv?.length) return opts.env ? { env: opts.env } : {};
  const env = Deno.env.toObject();
  for (const k of opts.unsetEnv) delete env[k];
  return { env: { ...env, ...opts.env }, clearEnv: true };
}

/**
 * Like {@link run} but a non-zero exit throws {@link CommandFailedError}
 * carrying the argv and stderr.
 */
export async function runOk(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new CommandFailedError([cmd, ...args], r.code, r.stderr);
  }
  return r;
}

/** True when `cmd` can be started (e.g. `hasBinary("tmux")`). */
export async function hasBinary(cmd: string): Promise<boolean> {
  try {
    await run(cmd, ["-V"]);
    return true;
  } catch (e) {
    if (e instanceof AppError && e.code === "missing_binary") return false;
    throw e;
  }
}

/** Options for {@link spawnChild}. */
export type SpawnOptions = {
  /** Working directory of the child. */
  cwd?: string;
  /** Extra environment variables (merged over the current environment). */
  env?: Record<string, string>;
  /** Default `inherit` (the terminal); `piped` gives `child.stdin`. */
  stdin?: "inherit" | "piped" | "null";
  /** Default `inherit`. */
  stdout?: "inherit" | "null";
  /** Default `inherit`; `piped` gives `child.stderr` (to read an error). */
  stderr?: "inherit" | "null" | "piped";
};

/**
 * Start `cmd args…` attached to this process's terminal (stdio inherited
 * unless told otherwise) and return its handle: for programs the user talks
 * to (the agent CLI, a shell, `less`, `tmux attach`). Throws what
 * `Deno.Command` throws (`Deno.errors.NotFound` when `cmd` is missing).
 */
export function spawnChild(
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions = {},
): Deno.ChildProcess {
  return new Deno.Command(cmd, {
    args: [...args],
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.env === undefined ? {} : { env: opts.env }),
    stdin: opts.stdin ?? "inherit",
    stdout: opts.stdout ?? "inherit",
    stderr: opts.stderr ?? "inherit",
  }).spawn();
}

/** Options for {@link runCapped}. */
export type RunCappedOptions =
  & Pick<
    RunOptions,
    "cwd" | "env" | "unsetEnv" | "signal"
  >
  & {
    /** Bytes of output kept: the first half and the last half (default 64 KiB). */
    maxBytes?: number;
    /** Kill the child after this long (ms); it then counts as failed. */
    timeoutMs?: number;
  };

/** What {@link runCapped} produced. */
export type CappedResult = {
  /** Exit code; 124 on timeout, 130 when aborted, 127 when not found. */
  code: number;
  /** stdout and stderr interleaved as they came, cut to `maxBytes`. */
  output: string;
  /** Output bytes dropped from the middle. */
  dropped: number;
  timedOut: boolean;
  aborted: boolean;
};

/**
 * Run a program whose output may be large (a project's test command): its
 * stdout and stderr are merged and only the first and last `maxBytes / 2`
 * are kept. Returns once the child has exited, without waiting for
 * grandchildren that still hold its pipes. Never throws for the child's
 * failure; a missing program gives code 127.
 */
export async function runCapped(
  cmd: string,
  args: readonly string[],
  opts: RunCappedOptions = {},
): Promise<CappedResult> {
  const max = opts.maxBytes ?? 64 * 1024;
  const half = Math.max(1, Math.floor(max / 2));
  const head: Uint8Array[] = [];
  let headLen = 0;
  const tail: Uint8Array[] = [];
  let tailLen = 0;
  let dropped = 0;
  const keep = (chunk: Uint8Array) => {
    if (headLen < half) {
      const take = chunk.subarray(0, half - headLen);
      head.push(take);
      headLen += take.length;
      chunk = chunk.subarray(take.length);
      if (chunk.length === 0) return;
    }
    tail.push(chunk);
    tailLen += chunk.length;
    while (tailLen > half) {
      const first = tail[0]!;
      const over = tailLen - half;
      if (first.length <= over) {
        tail.shift();
        tailLen -= first.length;
        dropped += first.length;
      } else {
        tail[0] = first.subarray(over);
        tailLen -= over;
        dropped += over;
      }
    }
  };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args: [...args],
      cwd: opts.cwd,
      ...childEnv(opts),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        code: 127,
        output: `cannot run '${cmd}': not found`,
        dropped: 0,
        timedOut: false,
        aborted: false,
      };
    }
    throw e;
  }
  let timedOut = false;
  let aborted = false;
  const kill = () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  const onAbort = () => {
    aborted = true;
    kill();
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  const readers = [child.stdout, child.stderr].map((s) => s.getReader());
  const pumps = readers.map(async (r) => {
    try {
      for (;;) {
        const { done, value } = await r.read();
        if (done) return;
        keep(value);
      }
    } catch { /* cancelled */ }
  });
  const status = await child.status;
  clearTimeout(timer);
  opts.signal?.removeEventListener("abort", onAbort);
  // Grandchildren may keep the pipes open: give them a moment, then stop.
  let grace: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(pumps),
    new Promise((ok) => grace = setTimeout(ok, 200)),
  ]);
  clearTimeout(grace);
  await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
  await Promise.all(pumps);
  const parts = [...head];
  if (dropped > 0) {
    parts.push(new TextEncoder().encode(`\n… ${dropped} bytes dropped …\n`));
  }
  parts.push(...tail);
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return {
    code: timedOut ? 124 : aborted ? 130 : status.code,
    output: dec.decode(bytes),
    dropped,
    timedOut,
    aborted,
  };
}
