/**
 * All printing goes through here: data to stdout, diagnostics to stderr,
 * colour only when allowed (`NO_COLOR` unset and the stream is a terminal).
 * @module
 */

const enc = new TextEncoder();

/** True when colour may be used on stderr/stdout. */
function colorEnabled(stream: "stdout" | "stderr" = "stdout"): boolean {
  if (Deno.env.get("NO_COLOR") !== undefined) return false;
  if (Deno.env.get("FORCE_COLOR")) return true;
  try {
    return (stream === "stdout" ? Deno.stdout : Deno.stderr).isTerminal();
  } catch {
    return false;
  }
}

function wrap(code: string, s: string, stream: "stdout" | "stderr"): string {
  return colorEnabled(stream) ? `\x1b[${code}m${s}\x1b[0m` : s;
}

/** Styling helpers; each returns plain text when colour is off. */
export const style = {
  bold: (s: string, stream: "stdout" | "stderr" = "stdout") =>
    wrap("1", s, stream),
  dim: (s: string, stream: "stdout" | "stderr" = "stdout") =>
    wrap("2", s, stream),
  red: (s: string, stream: "stdout" | "stderr" = "stdout") =>
    wrap("31", s, stream),
  green: (s: string, stream: "stdout" | "stderr" = "stdout") =>
    wrap("32", s, stream),
  yellow: (s: string, stream: "stdout" | "stderr" = "stdout") =>
    wrap("33", s, stream),
};

let stdoutReserved = false;

/**
 * Hand stdout over to a protocol (the MCP server's JSON-RPC frames): from
 * now on {@link println}, {@link printJson} and `console.log`/`info`/`debug`
 * write to stderr, so no stray line can corrupt a frame.
 */
export function reserveStdout(): void {
  stdoutReserved = true;
  console.log = console.error;
  console.info = console.error;
  console.debug = console.error;
}

/** Write a line to stdout (data); to stderr once stdout is reserved. */
export function println(line = ""): void {
  (stdoutReserved ? Deno.stderr : Deno.stdout).writeSync(
    enc.encode(line + "\n"),
  );
}

/** Write a line to stderr (progress, warnings, errors). */
export function eprintln(line = ""): void {
  Deno.stderr.writeSync(enc.encode(line + "\n"));
}

/** Print a value as pretty JSON to stdout. */
export function printJson(value: unknown): void {
  println(JSON.stringify(value, null, 2));
}

/** True when stdin is an interactive terminal (pickers allowed). */
export function stdinIsTty(): boolean {
  try {
    return Deno.stdin.isTerminal();
  } catch {
    return false;
  }
}

/**
 * Write a diagnostic line to stderr, ignoring a closed or broken stderr
 * (long-running plugins must never die of a failed warning).
 */
export function eprintlnQuiet(line: string): void {
  try {
    eprintln(line);
  } catch {
    // stderr is gone: nothing left to tell
  }
}
