/**
 * The argv of a plain `git paw start` read without commander: loading
 * commander costs `start` tens of milliseconds of CPU before its first
 * step. Only the common forms are read here, with the meaning commander
 * gives them (lib/session/cli.ts defines the command and stays the one
 * parser for everything else): each option once, values as `--opt v` or
 * `--opt=v`. Anything else — help, a spec flag, an unknown or repeated
 * option, a value starting with `-`, an invalid value, an option that
 * needs `--unattended` without it — is left to commander (null), which
 * also words the errors. Pure; imports nothing.
 * @module
 */

/** What {@link parseStartArgs} reads: `StartOptions` of lib/session/start.ts. */
export type FastStartOptions = {
  cli?: string;
  branches?: string[];
  preset?: string;
  dryRun?: boolean;
  broker: boolean;
  rebase: boolean;
  noAttach: boolean;
  supervisor?: boolean;
  unattended?: boolean;
  maxMinutes?: number;
  stopWhenDone?: boolean;
  json?: boolean;
  specsFormat?: "openspec" | "markdown" | "speckit";
};

const VALUED = new Set([
  "cli",
  "branches",
  "preset",
  "max-minutes",
  "specs-format",
]);

const FLAGS = new Set([
  "dry-run",
  "no-broker",
  "no-rebase",
  "no-attach",
  "supervisor",
  "no-supervisor",
  "unattended",
  "stop-when-done",
  "json",
]);

const SPEC_FORMATS = ["openspec", "markdown", "speckit"] as const;

/** commander's `--branches` parser (lib/session/cli.ts). */
function splitList(v: string): string[] {
  return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/**
 * The options of `git paw start <args>` (`args` after `start`), or null
 * when commander has to read them.
 */
export function parseStartArgs(
  args: readonly string[],
): FastStartOptions | null {
  const seen = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--") || a === "--") return null;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    // `--supervisor` and `--no-supervisor` are one option to commander.
    const key = name === "no-supervisor" ? "supervisor" : name;
    if (seen.has(key)) return null;
    if (FLAGS.has(name)) {
      if (eq > 0) return null;
      seen.set(key, name === "no-supervisor" ? "no" : true);
      continue;
    }
    if (!VALUED.has(name)) return null;
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      value = args[++i];
      if (value === undefined || value.startsWith("-")) return null;
    }
    seen.set(key, value);
  }
  const text = (k: string) => {
    const v = seen.get(k);
    return typeof v === "string" ? v : undefined;
  };
  const flag = (k: string) => seen.has(k) ? true : undefined;
  const out: FastStartOptions = {
    broker: !seen.has("no-broker"),
    rebase: !seen.has("no-rebase"),
    noAttach: seen.has("no-attach"),
  };
  const cli = text("cli");
  if (cli !== undefined) out.cli = cli;
  const branches = text("branches");
  if (branches !== undefined) out.branches = splitList(branches);
  const preset = text("preset");
  if (preset !== undefined) out.preset = preset;
  if (flag("dry-run")) out.dryRun = true;
  if (seen.has("supervisor")) out.supervisor = seen.get("supervisor") === true;
  if (flag("unattended")) out.unattended = true;
  if (flag("stop-when-done")) out.stopWhenDone = true;
  if (flag("json")) out.json = true;
  const minutes = text("max-minutes");
  if (minutes !== undefined) {
    const n = Number(minutes);
    if (!/^\d+(\.\d+)?$/.test(minutes.trim()) || !(n > 0)) return null;
    out.maxMinutes = n;
  }
  const format = text("specs-format");
  if (format !== undefined) {
    const f = SPEC_FORMATS.find((x) => x === format);
    if (!f) return null;
    out.specsFormat = f;
  }
  if (
    !out.unattended &&
    (out.maxMinutes !== undefined || out.stopWhenDone || out.json)
  ) return null;
  return out;
}
