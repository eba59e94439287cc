/**
 * `__agent-pane`: the process every agent pane runs. It starts the agent CLI
 * as a child on the same terminal; when the CLI ends it puts the terminal in
 * raw mode, throws away everything typed or pasted that nobody read (e.g. a
 * boot block typed into a CLI that exited early — its newlines would
 * otherwise act as Enter in a shell), and opens a shell in the worktree only
 * after a deliberate Enter keypress. Pending text therefore never reaches a
 * shell as commands.
 *
 * Needs `--allow-run`, `--allow-env`.
 * @module
 */
import { eprintln } from "../output.ts";
import { trace } from "../trace.ts";
import { spawnChild } from "../adapters/runner.ts";
import { escapeTmuxFormat, tmuxBatch } from "../adapters/tmux.ts";

const enc = new TextEncoder();

/** Options for {@link runAgentPane}. */
export type AgentPaneOptions = {
  /** CLI name for messages. */
  cli: string;
  /** Worktree (shell cwd). */
  cwd: string;
  /** Quiet period that ends the discard phase (ms, default 300). */
  drainQuietMs?: number;
  /** How long the CLI waits for `start` to register it (ms, default 60000). */
  gateTimeoutMs?: number;
};

/**
 * With `GIT_PAW_LAUNCH_GATE=<receipt>` (set by `start`, which opens the
 * panes while it still writes the agents' files): wait until that receipt
 * lists the worktree `cwd` (or, for the supervisor pane, is a supervisor
 * session of the repo `cwd`). After `timeoutMs` say so and go on.
 */
export async function waitForLaunchGate(
  cwd: string,
  timeoutMs = 60_000,
  gate: string | undefined = Deno.env.get("GIT_PAW_LAUNCH_GATE"),
): Promise<"open" | "none" | "gave-up"> {
  if (!gate) return "none";
  const started = Date.now();
  for (;;) {
    try {
      const doc = JSON.parse(await Deno.readTextFile(gate)) as {
        worktrees?: Array<{ worktree_path?: unknown }>;
        mode?: unknown;
        repo_path?: unknown;
      };
      if (doc.worktrees?.some((w) => w.worktree_path === cwd)) return "open";
      // The supervisor pane (repo root): its files are written before the
      // receipt that says supervisor.
      if (doc.mode === "supervisor" && doc.repo_path === cwd) return "open";
    } catch { /* not there yet, or being replaced */ }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      eprintln(
        `warning: git paw start did not finish registering ${cwd}; starting the CLI anyway`,
      );
      return "gave-up";
    }
    await new Promise((r) => setTimeout(r, waited < 2000 ? 5 : 100));
  }
}

function write(s: string): void {
  Deno.stdout.writeSync(enc.encode(s));
}

/**
 * With `GIT_PAW_BOOT_FILE` (set by `start` for a CLI that takes no prompt
 * argument): type that text into this pane — the CLI's input — in one
 * paste (newlines kept as typed, no Enter added), then remove the file.
 */
async function typeBootPrompt(
  file: string | undefined = Deno.env.get("GIT_PAW_BOOT_FILE"),
): Promise<void> {
  const pane = Deno.env.get("TMUX_PANE");
  if (!file || !pane) return;
  const buffer = `paw-boot:${pane}`;
  try {
    await tmuxBatch([
      // tmux expands formats in this path (`#(…)` would run a command).
      ["load-buffer", "-b", buffer, escapeTmuxFormat(file)],
      ["paste-buffer", "-d", "-s", "\n", "-b", buffer, "-t", pane],
    ]);
  } catch (e) {
    eprintln(
      `warning: could not type the boot prompt: ${(e as Error).message}`,
    );
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

function takeEnv(name: string): string | undefined {
  const v = Deno.env.get(name);
  if (v !== undefined) Deno.env.delete(name);
  return v || undefined;
}

/** Run the CLI, then guard the terminal; resolves to the exit code. */
export async function runAgentPane(
  argv: string[],
  opts: AgentPaneOptions,
): Promise<number> {
  // Ctrl-C/Ctrl-\ are for the CLI (same process group); the guard stays.
  const ignore = () => {};
  for (const s of ["SIGINT", "SIGQUIT"] as const) {
    try {
      Deno.addSignalListener(s, ignore);
    } catch { /* unsupported platform */ }
  }
  let code = 127;
  // For the guard only: the CLI does not inherit them.
  const gate = takeEnv("GIT_PAW_LAUNCH_GATE");
  const boot = takeEnv("GIT_PAW_BOOT_FILE");
  trace(`agent pane: gate ${await waitForLaunchGate(
    opts.cwd,
    opts.gateTimeoutMs,
    gate,
  )}`);
  // Typed once the CLI runs; the typing removes the file.
  let typing: Promise<void> | null = null;
  if (argv.length === 0) {
    eprintln("error: no CLI given to run");
  } else {
    try {
      const child = spawnChild(argv[0]!, argv.slice(1), { cwd: opts.cwd });
      if (boot) typing = typeBootPrompt(boot);
      const st = await child.status;
      // Whatever was typed is pending input now: the guard discards it.
      await typing;
      code = st.signal ? 128 + signalNumber(st.signal) : st.code;
    } catch (e) {
      eprintln(`error: cannot start ${opts.cli}: ${(e as Error).message}`);
    }
  }
  // No CLI to type into: the prompt file is not left behind either.
  if (boot && !typing) await Deno.remove(boot).catch(() => {});
  if (!Deno.stdin.isTerminal()) return code;

  const choice = await askAfterExit(opts, code);
  for (const s of ["SIGINT", "SIGQUIT"] as const) {
    try {
      Deno.removeSignalListener(s, ignore);
    } catch { /* ignore */ }
  }
  if (choice !== "shell") return code;
  // Restore sane terminal modes the CLI may have left behind.
  try {
    await spawnChild("stty", ["sane"], { stdout: "null", stderr: "null" })
      .status;
  } catch { /* no stty */ }
  const shell = Deno.env.get("SHELL") || "/bin/sh";
  try {
    // The shell is a child; the guard ignores ^C meanwhile so it survives.
    for (const s of ["SIGINT", "SIGQUIT"] as const) {
      try {
        Deno.addSignalListener(s, ignore);
      } catch { /* ignore */ }
    }
    const st = await spawnChild(shell, [], { cwd: opts.cwd }).status;
    return st.code;
  } catch (e) {
    eprintln(`error: cannot start ${shell}: ${(e as Error).message}`);
    return 127;
  }
}

function signalNumber(sig: Deno.Signal): number {
  const n: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGTERM: 15,
  };
  return n[sig] ?? 0;
}

/**
 * Raw mode; discard pending input until the terminal has been quiet for
 * `drainQuietMs`; then wait for exactly Enter (shell) or `q` (close). Any
 * other input — including pasted text arriving later — is ignored.
 */
async function askAfterExit(
  opts: AgentPaneOptions,
  code: number,
): Promise<"shell" | "close"> {
  const quiet = opts.drainQuietMs ?? 300;
  try {
    Deno.stdin.setRaw(true);
  } catch {
    return "close";
  }
  // Exactly one read is ever outstanding; it is reused across phases so no
  // read is left pending once a choice is made.
  let pending: Promise<Uint8Array | null> | null = null;
  const next = () => {
    pending ??= (async () => {
      const buf = new Uint8Array(4096);
      const n = await Deno.stdin.read(buf);
      return n === null ? null : buf.slice(0, n);
    })();
    return pending;
  };
  const TIMEOUT = Symbol("timeout");
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        next(),
        new Promise<typeof TIMEOUT>((res) => {
          timer = setTimeout(() => res(TIMEOUT), quiet);
        }),
      ]);
      clearTimeout(timer);
      if (r === TIMEOUT) break;
      pending = null;
      if (r === null) return "close";
      // discarded
    }
    write(
      `\r\n${opts.cli} exited (code ${code}). Press Enter to open a shell in ${opts.cwd}, or q to close this pane.\r\n`,
    );
    for (;;) {
      const chunk = await next();
      pending = null;
      if (chunk === null) return "close";
      if (chunk.length === 1 && chunk[0] === 0x0d) return "shell";
      if (chunk.length === 1 && (chunk[0] === 0x71 || chunk[0] === 0x51)) {
        return "close";
      }
    }
  } finally {
    try {
      Deno.stdin.setRaw(false);
    } catch { /* ignore */ }
  }
}
