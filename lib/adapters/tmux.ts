/**
 * tmux adapter: every call is an argv array (never a shell string), every
 * argument is protected from tmux's `;` command splitting, and text that
 * tmux expands as a format (`-T`, `-c`, `display-message`) is escaped
 * (`#` → `##`). Options are session-, window- or pane-scoped only — the
 * user's global options are never changed. The socket is tmux's default
 * (honouring `TMUX_TMPDIR`, or `$TMUX` inside tmux). {@link tmuxTry}
 * returns the result whatever the exit code, {@link tmuxText} throws on a
 * non-zero one; {@link tmuxBatch} sends many commands in few invocations.
 * Cheap to load (no zod, no CLI parser): pane processes import it.
 *
 * Needs `--allow-run=tmux`.
 * @module
 */
import { run, spawnChild } from "./runner.ts";
import { AppError } from "../core/errors.ts";
import type { Liveness } from "../core/session.ts";
import { eprintln } from "../output.ts";
import { trace, tracing } from "../trace.ts";

/**
 * Escape text for a tmux argument that tmux expands as a format, so it
 * stays literal: `#` → `##` (`#{…}`, `#(…)` and `#S` are not expanded).
 * `strftime`: the argument also goes through strftime (`display-message`,
 * `pipe-pane`), so `%` → `%%` too. Not for `select-pane -T` or `-c`: tmux
 * does not strftime those, and a doubled `%` would show up doubled.
 *
 * @example
 * ```ts
 * import { escapeTmuxFormat } from "./tmux.ts";
 * escapeTmuxFormat("feat/#1"); // "feat/##1"
 * escapeTmuxFormat("100% #S", { strftime: true }); // "100%% ##S"
 * ```
 */
export function escapeTmuxFormat(
  text: string,
  opts: { strftime?: boolean } = {},
): string {
  const out = text.replaceAll("#", "##");
  return opts.strftime ? out.replaceAll("%", "%%") : out;
}

/**
 * Protect one argv element given to tmux: tmux ends a command at an argument
 * that ends in `;` (and turns a final `\;` into `;`), so a final `;` gets a
 * backslash in front. Apply to every argument; formats are a separate
 * concern ({@link escapeTmuxFormat}).
 *
 * @example
 * ```ts
 * import { tmuxArg } from "./tmux.ts";
 * tmuxArg("feat;"); // "feat\\;"
 * ```
 */
export function tmuxArg(arg: string): string {
  return arg.endsWith(";") ? `${arg.slice(0, -1)}\\;` : arg;
}

let envOverride: Record<string, string> | undefined;

/**
 * Point every tmux call of this module instance at another server, e.g.
 * `{ TMUX_TMPDIR: dir, TMUX: "" }` (tests); `undefined` restores the
 * process environment.
 */
export function setTmuxEnv(env?: Record<string, string>): void {
  envOverride = env;
}

/** The environment override set by {@link setTmuxEnv}, if any. */
export function tmuxEnv(): Record<string, string> | undefined {
  return envOverride;
}

/** Result of one tmux call. */
export type TmuxResult = { code: number; stdout: string; stderr: string };

/**
 * Run `tmux args…`; never throws for a non-zero exit. `opts.env`: the
 * environment to reach the server with, instead of {@link setTmuxEnv}'s.
 */
export async function tmuxTry(
  args: readonly string[],
  opts: { env?: Record<string, string> } = {},
): Promise<TmuxResult> {
  const env = opts.env ?? envOverride;
  return await run("tmux", args.map(tmuxArg), env ? { env } : {});
}

/** Run `tmux args…`; a non-zero exit throws `Tmux error: <stderr>`. */
export async function tmuxText(args: readonly string[]): Promise<string> {
  const r = await tmuxTry(args);
  if (r.code !== 0) {
    throw new AppError(
      `Tmux error: ${r.stderr.trim() || `tmux ${args[0]} failed`} (tmux ${
        args[0]
      })`,
      "tmux",
    );
  }
  return r.stdout;
}

/** `[major, minor]` of the installed tmux, or null when not installed. */
async function tmuxVersion(): Promise<[number, number] | null> {
  let r: TmuxResult;
  try {
    r = await run("tmux", ["-V"], { env: envOverride });
  } catch (e) {
    if (e instanceof AppError && e.code === "missing_binary") return null;
    throw e;
  }
  const m = r.stdout.match(/(\d+)\.(\d+)/);
  return m ? [Number(m[1]), Number(m[2])] : [99, 0];
}

/**
 * Throw a clear error when tmux is missing or older than 3.2 (needed for
 * `-e` on `split-window`).
 */
export async function requireTmux(): Promise<void> {
  const v = await tmuxVersion();
  if (!v) {
    throw new AppError(
      "tmux is required but not installed. Install with: brew install tmux (macOS) or apt install tmux (Linux)",
      "missing_binary",
    );
  }
  if (v[0] < 3 || (v[0] === 3 && v[1] < 2)) {
    throw new AppError(
      `tmux ${v[0]}.${
        v[1]
      } is too old; git-paw needs tmux 3.2 or newer. Upgrade tmux.`,
      "missing_binary",
    );
  }
}

/** Exact-match target for a session name. */
export function sessionTarget(name: string): string {
  return `=${name}`;
}

/**
 * Is the session running? `alive`, `stale` (tmux ran and said no) or
 * `indeterminate` (tmux could not be run).
 */
export async function hasSession(name: string): Promise<Liveness> {
  try {
    const r = await tmuxTry(["has-session", "-t", sessionTarget(name)]);
    return r.code === 0 ? "alive" : "stale";
  } catch {
    return "indeterminate";
  }
}

/** What to run in a new pane. */
export type PaneSpec = {
  /** Working directory (escaped for format expansion here). */
  cwd: string;
  /** Variables for the pane's environment (`-e`). */
  env: Record<string, string>;
  /** Program and arguments, run directly (no shell). */
  argv: string[];
};

/** `-c <cwd>` (format-escaped) and one `-e K=V` per variable, for new panes. */
export function paneArgs(spec: PaneSpec): string[] {
  const out = ["-c", escapeTmuxFormat(spec.cwd)];
  for (const [k, v] of Object.entries(spec.env)) out.push("-e", `${k}=${v}`);
  return out;
}

/** A new pane's options and command, printing the new pane's id. */
function printedPane(spec: PaneSpec): string[] {
  return [...paneArgs(spec), "-P", "-F", "#{pane_id}", "--", ...spec.argv];
}

/**
 * `new-session -d` with a fixed size (instead of a global `default-size`);
 * returns the first pane's id (`%N`).
 */
export async function newSession(
  name: string,
  spec: PaneSpec,
  size: { width: number; height: number } = { width: 480, height: 140 },
): Promise<string> {
  const out = await tmuxText([
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    String(size.width),
    "-y",
    String(size.height),
    ...printedPane(spec),
  ]);
  return out.trim();
}

/** Options for {@link splitWindow}. */
export type SplitOptions = {
  /** Put the new pane before (left of / above) the target. */
  before?: boolean;
  /** Split left/right instead of top/bottom. */
  horizontal?: boolean;
};

/** `split-window` at `target` (a pane id); returns the new pane's id. */
export async function splitWindow(
  target: string,
  spec: PaneSpec,
  opts: SplitOptions = {},
): Promise<string> {
  const out = await tmuxText([
    "split-window",
    "-d",
    ...(opts.horizontal ? ["-h"] : []),
    ...(opts.before ? ["-b"] : []),
    "-t",
    target,
    ...printedPane(spec),
  ]);
  return out.trim();
}

/** Set a pane title verbatim (escaped: `select-pane -T` expands formats). */
export async function setPaneTitle(pane: string, title: string): Promise<void> {
  await tmuxText(["select-pane", "-t", pane, "-T", escapeTmuxFormat(title)]);
}

/** A session-scoped option (`set-option -t <session>`). */
export async function setSessionOption(
  session: string,
  key: string,
  value: string,
): Promise<void> {
  await tmuxText([
    "set-option",
    "-t",
    `${sessionTarget(session)}:`,
    key,
    value,
  ]);
}

/**
 * The pid of the process each pane of session `name` runs (`#{pane_pid}`),
 * or of one pane when `pane` is given; empty when there is none.
 */
export async function panePids(name: string, pane?: string): Promise<number[]> {
  const r = await tmuxTry(
    pane
      ? ["display-message", "-p", "-t", pane, "#{pane_pid}"]
      : ["list-panes", "-s", "-t", sessionTarget(name), "-F", "#{pane_pid}"],
  ).catch(() => null);
  if (!r || r.code !== 0) return [];
  return r.stdout.split("\n").map((l) => Number(l.trim())).filter((n) =>
    Number.isInteger(n) && n > 0
  );
}

/** Kill a session if it exists (no error when it does not). */
export async function killSession(name: string): Promise<void> {
  await tmuxTry(["kill-session", "-t", sessionTarget(name)]);
}

/** Kill one pane (no error when it is gone). */
export async function killPane(pane: string): Promise<void> {
  await tmuxTry(["kill-pane", "-t", pane]);
}

/** One pane as listed by {@link listPanes}. */
export type PaneInfo = {
  id: string;
  index: number;
  title: string;
  /** `@paw_agent` (agent id) or "" */
  agent: string;
  /** `@paw_role` (`dashboard`, the branch) or "" */
  role: string;
  dead: boolean;
};

/** Every pane of the session's first window, in index order. */
export async function listPanes(session: string): Promise<PaneInfo[]> {
  const sep = "\x1f";
  const out = await tmuxText([
    "list-panes",
    "-s",
    "-t",
    sessionTarget(session),
    "-F",
    [
      "#{pane_id}",
      "#{pane_index}",
      "#{pane_dead}",
      "#{@paw_agent}",
      "#{@paw_role}",
      "#{pane_title}",
    ].join(sep),
  ]);
  return out.split("\n").filter((l) => l !== "").map((l) => {
    const [id, index, dead, agent, role, ...title] = l.split(sep);
    return {
      id: id!,
      index: Number(index),
      dead: dead === "1",
      agent: agent ?? "",
      role: role ?? "",
      title: title.join(sep),
    };
  });
}

/** Type text literally into a pane (`send-keys -l`, no Enter). */
export async function sendLiteral(pane: string, text: string): Promise<void> {
  await tmuxText(["send-keys", "-l", "-t", pane, "--", text]);
}

/** Press one key in a pane (`send-keys Enter`; tmux key names, not literal). */
export async function sendKey(pane: string, key: string): Promise<void> {
  await tmuxText(["send-keys", "-t", pane, key]);
}

/** Detach every client of the session ("no clients" is fine). */
export async function detachClients(session: string): Promise<void> {
  await tmuxTry(["detach-client", "-s", sessionTarget(session)]);
}

/**
 * The size of the tmux client this process runs under (inside tmux), or
 * null when there is none.
 */
export async function currentClientSize(): Promise<
  { width: number; height: number } | null
> {
  const r = await tmuxTry([
    "display-message",
    "-p",
    "#{client_width} #{client_height}",
  ]);
  const m = /^(\d+) (\d+)$/.exec(r.stdout.trim());
  return r.code === 0 && m
    ? { width: Number(m[1]), height: Number(m[2]) }
    : null;
}

/** What became of {@link attachSession}: `reason` is tmux's own word. */
export type AttachResult = { ok: true } | { ok: false; reason: string };

/**
 * Attach the terminal to the session: `switch-client` when already inside
 * tmux, else `attach-session` (inherits the terminal; returns on detach).
 * A failure is a value: tmux's error line (not printed) or its exit code.
 */
export async function attachSession(session: string): Promise<AttachResult> {
  const inside = !!Deno.env.get("TMUX");
  const args = inside
    ? ["switch-client", "-t", sessionTarget(session)]
    : ["attach-session", "-t", sessionTarget(session)];
  // stderr is read, not shown: the client draws on stdin/stdout, and only
  // ever writes an error (`no current client`, `open terminal failed`) there.
  const child = spawnChild("tmux", args.map(tmuxArg), {
    ...(envOverride ? { env: envOverride } : {}),
    stderr: "piped",
  });
  const [st, err] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  if (st.success) return { ok: true };
  const last = err.split("\n").map((l) => l.trim()).filter((l) => l).at(-1);
  return {
    ok: false,
    reason: last ?? `tmux ${args[0]} exited with code ${st.code}`,
  };
}

/**
 * Bytes of command line one tmux invocation may carry: the client hands its
 * whole argv to the server in one message of at most 16 KiB ("command too
 * long" beyond that), so leave room for the message header and environment.
 */
const TMUX_BATCH_BYTES = 12 * 1024;

/**
 * Run several tmux commands in as few invocations as possible (`;`
 * separators), splitting between commands where one message would be too
 * long for tmux. Returns the output lines of all invocations, in order.
 */
export async function tmuxBatch(commands: string[][]): Promise<string[]> {
  const out: string[] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const c of commands) {
    const args = c.map(tmuxArg);
    const bytes = args.reduce((n, a) => n + utf8.encode(a).length + 1, 2);
    if (chunk.length > 0 && size + bytes > TMUX_BATCH_BYTES) {
      out.push(...await tmuxInvoke(chunk));
      chunk = [];
      size = 0;
    }
    if (chunk.length > 0) chunk.push(";");
    chunk.push(...args);
    size += bytes;
  }
  if (chunk.length > 0) out.push(...await tmuxInvoke(chunk));
  return out;
}

const utf8 = new TextEncoder();

async function tmuxInvoke(args: string[]): Promise<string[]> {
  if (Deno.env.get("GIT_PAW_DEBUG")) {
    eprintln(`tmux ${JSON.stringify(args)}`);
  }
  if (tracing) {
    trace(`tmux: batch of ${args.filter((a) => a === ";").length + 1}`);
  }
  const r = await run("tmux", args, { env: envOverride });
  trace("tmux: batch done");
  if (r.code !== 0) {
    throw new AppError(
      `Tmux error: ${r.stderr.trim() || "tmux failed"}`,
      "tmux",
    );
  }
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** Printed between two panes' screens by {@link capturePanes}. */
const CAPTURE_SEP = "@@git-paw-capture-7c1e@@";

/**
 * The visible text of each pane (`capture-pane -p`), all in one tmux
 * invocation; a pane that cannot be captured (gone) is missing from the
 * map. Cheap enough to run every second.
 */
export async function capturePanes(
  panes: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (panes.length === 0) return out;
  const args: string[] = [];
  for (const p of panes) {
    if (args.length) args.push(";");
    args.push("capture-pane", "-p", "-t", tmuxArg(p), ";");
    args.push("display-message", "-p", CAPTURE_SEP);
  }
  const r = await run("tmux", args, { env: envOverride });
  const parts = r.stdout.split(`${CAPTURE_SEP}\n`);
  // tmux stops at the first failing command: what came before is good.
  const done = Math.min(panes.length, parts.length - 1);
  for (let i = 0; i < done; i++) out.set(panes[i]!, parts[i]!);
  if (r.code !== 0 && done < panes.length) {
    // Skip the pane that failed and go on with the rest.
    const rest = await capturePanes(panes.slice(done + 1));
    for (const [k, v] of rest) out.set(k, v);
  }
  return out;
}
