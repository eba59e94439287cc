/**
 * `git paw replay` (docs/REFERENCE.md, "Other commands"): read back the pane logs recorded under
 * `<repo>/.git-paw/logs/<session>/<branch with / → -->.log` when
 * `[logging] enabled`.
 *
 * - Sessions are the directories under `.git-paw/logs/`; the default is the
 *   most recently modified one (newest of the directory and its logs).
 * - A branch matches by exact branch name (`feat/a`), file stem (`feat--a`)
 *   or file name (`feat--a.log`); failing those, by a unique slug match
 *   (`feat-a`).
 * - By default escape sequences (CSI, OSC, DCS/APC/PM/SOS, two-byte ESC) and
 *   stray control characters are stripped, streaming, so a log of any size
 *   prints in constant memory. `--color` pipes the raw log to `less -R`,
 *   found by searching each `$PATH` directory (the original joined the whole
 *   `$PATH` with `less`); without `less` it prints raw with a warning.
 *
 * Needs `--allow-read` (logs), `--allow-env=PATH`, `--allow-run` (less).
 * @module
 */
import { delimiter, join } from "node:path";
import { AppError } from "../core/errors.ts";
import { slugify } from "../core/slug.ts";
import { spawnChild } from "../adapters/runner.ts";
import { isExecutableSync, statOrNull } from "../adapters/fs.ts";

/** One recorded pane log. */
export type LogFile = {
  /** File name, e.g. `feat--a.log`. */
  file: string;
  /** Branch it records, e.g. `feat/a`. */
  branch: string;
  /** Absolute path. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** Last modification (ms since epoch; 0 when unknown). */
  mtimeMs: number;
};

/** One session's log directory. */
export type LogSession = {
  name: string;
  dir: string;
  /** Newest mtime of the directory and its logs (ms since epoch). */
  modifiedMs: number;
  /** Logs sorted by branch. */
  logs: LogFile[];
};

/** Directory holding every session's logs. */
function logsRoot(repo: string): string {
  return join(repo, ".git-paw", "logs");
}

/** `feat--a.log` → `feat/a` (the inverse of the pane log file name). */
export function branchFromLogFile(file: string): string {
  return file.replace(/\.log$/, "").replaceAll("--", "/");
}

async function readSession(name: string, dir: string): Promise<LogSession> {
  const logs: LogFile[] = [];
  const dirInfo = await statOrNull(dir);
  let modifiedMs = dirInfo?.mtime?.getTime() ?? 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".log") || e.name === ".log") continue;
    const path = join(dir, e.name);
    const info = await statOrNull(path);
    if (!info?.isFile) continue;
    const mtimeMs = info.mtime?.getTime() ?? 0;
    modifiedMs = Math.max(modifiedMs, mtimeMs);
    logs.push({
      file: e.name,
      branch: branchFromLogFile(e.name),
      path,
      bytes: info.size,
      mtimeMs,
    });
  }
  logs.sort((a, b) => a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0);
  return { name, dir, modifiedMs, logs };
}

/** Every session with a log directory, most recently modified first. */
export async function listLogSessions(repo: string): Promise<LogSession[]> {
  const root = logsRoot(repo);
  const out: LogSession[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (!e.isDirectory) continue;
      out.push(await readSession(e.name, join(root, e.name)));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    if (e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
  out.sort((a, b) => b.modifiedMs - a.modifiedMs || (a.name < b.name ? -1 : 1));
  return out;
}

/** Error text when no session has logs. */
const NO_LOG_SESSIONS =
  "No log sessions found. Session logging may not be enabled: set `[logging] enabled = true` in .git-paw/config.toml and start a session.";

/**
 * The session named `name` (must exist), or the most recently modified one.
 * @throws {AppError} `no_log_sessions` or `log_session_not_found`.
 */
export function pickLogSession(
  sessions: LogSession[],
  name?: string,
): LogSession {
  if (sessions.length === 0) {
    throw new AppError(NO_LOG_SESSIONS, "no_log_sessions");
  }
  if (name === undefined) return sessions[0]!;
  const found = sessions.find((s) => s.name === name);
  if (!found) {
    throw new AppError(
      `Session '${name}' not found under .git-paw/logs/. Available sessions: ${
        sessions.map((s) => s.name).join(", ")
      }`,
      "log_session_not_found",
    );
  }
  return found;
}

/**
 * The log of `query` in `session`: exact branch, file stem or file name;
 * otherwise a unique slug match.
 * @throws {AppError} `no_matching_log` naming the available branches.
 */
export function matchLog(session: LogSession, query: string): LogFile {
  const exact = session.logs.find((l) =>
    l.branch === query || l.file === query ||
    l.file.replace(/\.log$/, "") === query
  );
  if (exact) return exact;
  const slug = slugify(query);
  const bySlug = session.logs.filter((l) => slugify(l.branch) === slug);
  if (bySlug.length === 1) return bySlug[0]!;
  const available = session.logs.map((l) => l.branch).join(", ") || "(none)";
  throw new AppError(
    `No log matching '${query}' in session '${session.name}'. Available branches: ${available}`,
    "no_matching_log",
  );
}

enum S {
  Text,
  Esc,
  EscInter,
  Csi,
  Str,
  StrEsc,
  Cr,
}

/**
 * Streaming remover of terminal escape sequences and control characters.
 * Keeps text, `\n` and `\t`; turns `\r\n` and a lone `\r` into `\n`. String
 * sequences (OSC, DCS, SOS, PM, APC) end at BEL, ST (`ESC \`) or a newline.
 * Sequences split across chunks are handled.
 */
export class AnsiStripper {
  #state: S = S.Text;

  /** Strip one chunk; returns the text that is complete so far. */
  push(chunk: string): string {
    let out = "";
    let runStart = -1;
    const flushRun = (i: number) => {
      if (runStart >= 0) {
        out += chunk.slice(runStart, i);
        runStart = -1;
      }
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      switch (this.#state) {
        case S.Cr:
          this.#state = S.Text;
          out += "\n";
          if (c === 0x0a) continue; // \r\n → one newline
        // falls through: handle this char as text
        case S.Text:
          if (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c <= 0x9f)) {
            if (runStart < 0) runStart = i;
            continue;
          }
          flushRun(i);
          if (c === 0x0a || c === 0x09) out += chunk[i];
          else if (c === 0x0d) this.#state = S.Cr;
          else if (c === 0x1b) this.#state = S.Esc;
          else if (c === 0x9b) this.#state = S.Csi;
          else if (
            c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f
          ) {
            this.#state = S.Str;
          }
          // every other C0/C1 control is dropped
          continue;
        case S.Esc:
          if (c === 0x5b) this.#state = S.Csi; // [
          else if (
            c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f
          ) this.#state = S.Str; // ] P X ^ _
          else if (c >= 0x20 && c <= 0x2f) this.#state = S.EscInter;
          else if (c === 0x1b) this.#state = S.Esc;
          else if (c >= 0x30 && c <= 0x7e) this.#state = S.Text; // ESC 7, ESC =, …
          else {
            this.#state = S.Text;
            i--; // not an escape after all: reprocess as text/control
          }
          continue;
        case S.EscInter:
          if (c >= 0x20 && c <= 0x2f) continue;
          this.#state = S.Text;
          if (!(c >= 0x30 && c <= 0x7e)) i--;
          continue;
        case S.Csi:
          if (c >= 0x30 && c <= 0x3f) continue; // parameters
          if (c >= 0x20 && c <= 0x2f) continue; // intermediates
          this.#state = S.Text;
          if (!(c >= 0x40 && c <= 0x7e)) i--; // malformed: reprocess
          continue;
        case S.Str:
          if (c === 0x07 || c === 0x9c) this.#state = S.Text;
          else if (c === 0x1b) this.#state = S.StrEsc;
          else if (c === 0x0a) {
            this.#state = S.Text;
            out += "\n";
          }
          continue;
        case S.StrEsc:
          if (c === 0x5c) this.#state = S.Text; // ESC \ = ST
          else if (c === 0x1b) this.#state = S.StrEsc;
          else this.#state = S.Str;
          continue;
      }
    }
    flushRun(chunk.length);
    return out;
  }

  /** End of input: a pending `\r` becomes a newline; partial escapes vanish. */
  flush(): string {
    const pendingCr = this.#state === S.Cr;
    this.#state = S.Text;
    return pendingCr ? "\n" : "";
  }
}

/** Strip escape sequences and control characters from a whole string. */
export function stripAnsi(text: string): string {
  const s = new AnsiStripper();
  return s.push(text) + s.flush();
}

/** A `TransformStream` version of {@link AnsiStripper}. */
function ansiStripStream(): TransformStream<string, string> {
  const s = new AnsiStripper();
  return new TransformStream({
    transform(chunk, controller) {
      const out = s.push(chunk);
      if (out) controller.enqueue(out);
    },
    flush(controller) {
      const out = s.flush();
      if (out) controller.enqueue(out);
    },
  });
}

/**
 * Find an executable called `name` in `pathVar` (default `$PATH`), checking
 * each directory in order. An empty entry means the current directory, as in
 * POSIX. Returns the absolute path or null.
 */
export function findOnPath(
  name: string,
  pathVar: string | undefined = Deno.env.get("PATH"),
): string | null {
  if (!pathVar || name.includes("/")) return null;
  for (const entry of pathVar.split(delimiter)) {
    const dir = entry === "" ? Deno.cwd() : entry;
    const candidate = join(dir, name);
    if (isExecutableSync(candidate)) return candidate;
  }
  return null;
}

/** Options for {@link replayLog}. */
export type ReplayLogOptions = {
  /** Pipe raw output through `less -R` (fallback: raw to `out`). */
  color?: boolean;
  /** Where text goes (default: stdout). */
  out?: WritableStream<Uint8Array>;
  /** Diagnostics (default: stderr line). */
  warn?: (line: string) => void;
  /** `$PATH` to search for `less` (default: the environment's). */
  pathVar?: string;
};

/** Stream one log: stripped to `out`, or raw through `less -R` with color. */
export async function replayLog(
  log: LogFile,
  opts: ReplayLogOptions = {},
): Promise<void> {
  const warn = opts.warn ??
    ((l: string) => Deno.stderr.writeSync(new TextEncoder().encode(l + "\n")));
  const out = opts.out ?? nonClosingStdout();
  const file = await Deno.open(log.path, { read: true });
  try {
    await replayFile(file, out, warn, opts);
  } catch (e) {
    // The reader went away (`git paw replay x | head`): stop quietly.
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  } finally {
    try {
      file.close();
    } catch { /* the stream already closed it */ }
  }
}

async function replayFile(
  file: Deno.FsFile,
  out: WritableStream<Uint8Array>,
  warn: (line: string) => void,
  opts: ReplayLogOptions,
): Promise<void> {
  if (opts.color) {
    const less = findOnPath("less", opts.pathVar ?? Deno.env.get("PATH"));
    if (less) {
      await pipeToLess(less, file.readable);
      return;
    }
    warn("warning: `less` not found on PATH; printing the raw log instead");
    await file.readable.pipeTo(out);
    return;
  }
  await file.readable
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(ansiStripStream())
    .pipeThrough(new TextEncoderStream())
    .pipeTo(out);
}

async function pipeToLess(
  less: string,
  input: ReadableStream<Uint8Array>,
): Promise<void> {
  const child = spawnChild(less, ["-R"], { stdin: "piped" });
  try {
    await input.pipeTo(child.stdin);
  } catch {
    // The user quit less before the end (broken pipe): not an error.
    await input.cancel().catch(() => {});
  }
  const status = await child.status;
  if (!status.success && status.signal === null) {
    throw new AppError(
      `less exited with status ${status.code}`,
      "pager_failed",
    );
  }
}

function nonClosingStdout(): WritableStream<Uint8Array> {
  return new WritableStream({
    async write(chunk) {
      let off = 0;
      while (off < chunk.length) {
        off += await Deno.stdout.write(chunk.subarray(off));
      }
    },
  });
}
