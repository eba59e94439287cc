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
    if (e instanceof Deno.errors.NotFound) throw missingBinaryError(cmd, e);
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
