/**
 * AI CLI detection (docs/REFERENCE.md, "AI CLI detection"): the known binaries found on PATH, custom
 * `[clis.NAME]` entries from config, and the built-in `demo` agent that ships
 * with git-paw. Each entry carries the argv that launches it.
 *
 * A custom CLI's `command` is a string split into argv with POSIX shell-word
 * rules (quotes and backslashes; no variables, globs or operators — nothing
 * is ever run through a shell), via the `shlex` package.
 *
 * Needs `--allow-read` (PATH lookup) and `--allow-env`.
 * @module
 */
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { Config } from "../core/config.ts";
import { DEFAULT_SUBMIT_DELAY_MS } from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import { joinCommand, splitCommand } from "../core/command_line.ts";
import { selfArgv } from "../adapters/self.ts";
import { isExecutableSync } from "../adapters/fs.ts";

/** Known AI CLI binaries, in probe order (docs/REFERENCE.md, "AI CLI detection"). */
export const KNOWN_CLIS = [
  "claude",
  "codex",
  "gemini",
  "aider",
  "vibe",
  "qwen",
  "amp",
  "opencode",
  "cline",
  "droid",
  "pi",
  "junie",
  "cursor",
  "copilot",
  "cn",
  "kilo",
  "kimi",
] as const;

/** Name of the built-in demo agent CLI. */
export const DEMO_CLI = "demo";

/** The hidden command that runs the demo agent. */
export const DEMO_AGENT_COMMAND = "__demo-agent";

/** Where an entry came from. */
export type CliSource = "detected" | "custom" | "builtin";

/** One launchable AI CLI. */
export type CliEntry = {
  /** Name used with `--cli` and stored in receipts. */
  name: string;
  /** Human name (`Claude`, or a custom `display_name`). */
  display: string;
  /** Program and arguments that launch it (no shell involved). */
  argv: string[];
  /** Resolved program path (`argv[0]`). */
  path: string;
  source: CliSource;
  /** Delay between typing a prompt and Enter (supervisor mode). */
  submit_delay_ms: number;
  /** Claude-format settings file to seed, if configured. */
  settings_path: string | null;
};

/** Reads one environment variable. */
export type EnvGetter = (name: string) => string | undefined;

/** Options for {@link detectClis} and {@link resolveCli}. */
export type DetectOptions = {
  /** Environment to read PATH from (default: the process environment). */
  env?: EnvGetter;
  /** Called for each custom CLI whose command cannot be found. */
  onWarning?: (message: string) => void;
  /** argv prefix that re-runs git-paw (default {@link selfArgv}). */
  self?: string[];
  /** Directories searched after `$PATH` (default {@link systemDirsOf} the environment). */
  systemDirs?: readonly string[];
  /** Look for these known CLIs only (default: all of {@link KNOWN_CLIS}). */
  known?: readonly string[];
};

const EXTRA_DIRS = ["/usr/bin", "/bin", "/usr/local/bin"];

/**
 * Replaces the system dirs searched after `$PATH`: a `:`-separated list,
 * empty for none. Lets a test (or a user) keep detection to `$PATH`.
 */
export const SYSTEM_DIRS_ENV = "GIT_PAW_SYSTEM_DIRS";

/** The dirs searched after `$PATH`: `$GIT_PAW_SYSTEM_DIRS` when set, else `/usr/bin:/bin:/usr/local/bin`. */
function systemDirsOf(env: EnvGetter): readonly string[] {
  const set = env(SYSTEM_DIRS_ENV);
  if (set === undefined) return EXTRA_DIRS;
  return set.split(delimiter).filter((d) => d !== "");
}

/** The directories searched for programs: `$PATH` plus the system dirs. */
export function searchPath(
  env: EnvGetter = (k) => Deno.env.get(k),
  systemDirs: readonly string[] = systemDirsOf(env),
): string[] {
  const dirs = (env("PATH") ?? "").split(delimiter).filter((d) => d !== "");
  for (const d of systemDirs) if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

const isExecutableFile = isExecutableSync;

/**
 * Absolute path of `bin` (like `which`): an absolute or `./`-relative path is
 * checked as is, a bare name is searched in {@link searchPath}.
 */
export function which(
  bin: string,
  env: EnvGetter = (k) => Deno.env.get(k),
  systemDirs: readonly string[] = systemDirsOf(env),
): string | null {
  if (bin === "") return null;
  if (bin.includes("/")) {
    const p = isAbsolute(bin) ? bin : resolve(bin);
    return isExecutableFile(p) ? p : null;
  }
  for (const dir of searchPath(env, systemDirs)) {
    const p = join(dir, bin);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

export { joinCommand, splitCommand };

function capitalise(s: string): string {
  return s.length ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** Picker label: `bin`, or `Display (bin)` when the display name differs. */
export function cliLabel(e: CliEntry): string {
  return e.display === e.name ? e.name : `${e.display} (${e.name})`;
}

/** The built-in demo agent entry. */
function demoCli(self: string[] = selfArgv()): CliEntry {
  return {
    name: DEMO_CLI,
    display: "Demo agent, built in",
    argv: [...self, DEMO_AGENT_COMMAND],
    path: self[0] ?? "git-paw",
    source: "builtin",
    submit_delay_ms: 300,
    settings_path: null,
  };
}

/**
 * Every usable CLI: detected known binaries, custom `[clis.*]` entries
 * (a custom entry overrides a detected one of the same name; an unresolvable
 * command is skipped with a warning), sorted case-insensitively by display
 * name, and the built-in `demo` LAST.
 */
export function detectClis(
  config: Config,
  opts: DetectOptions = {},
): CliEntry[] {
  const env = opts.env ?? ((k: string) => Deno.env.get(k));
  const byName = new Map<string, CliEntry>();
  for (const bin of KNOWN_CLIS) {
    if (opts.known && !opts.known.includes(bin)) continue;
    const path = which(bin, env, opts.systemDirs);
    if (!path) continue;
    const custom = config.clis[bin];
    byName.set(bin, {
      name: bin,
      display: capitalise(bin),
      argv: [path],
      path,
      source: "detected",
      submit_delay_ms: custom?.submit_delay_ms ?? DEFAULT_SUBMIT_DELAY_MS,
      settings_path: custom?.settings_path ?? null,
    });
  }
  let builtin: CliEntry | null = demoCli(opts.self);
  for (const [name, c] of Object.entries(config.clis)) {
    let argv: string[];
    try {
      argv = splitCommand(c.command);
    } catch (e) {
      opts.onWarning?.(
        `custom CLI '${name}' has an unusable command (${
          (e as Error).message
        }), skipping`,
      );
      continue;
    }
    const path = which(argv[0]!, env, opts.systemDirs);
    if (!path) {
      opts.onWarning?.(
        `custom CLI '${name}' not found at '${argv[0]}', skipping`,
      );
      continue;
    }
    if (name === DEMO_CLI) builtin = null;
    byName.set(name, {
      name,
      display: c.display_name ?? capitalise(name),
      argv: [path, ...argv.slice(1)],
      path,
      source: "custom",
      submit_delay_ms: c.submit_delay_ms,
      settings_path: c.settings_path,
    });
  }
  const list = [...byName.values()].sort((a, b) => {
    const x = a.display.toLowerCase(), y = b.display.toLowerCase();
    return x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : 1;
  });
  if (builtin) list.push(builtin);
  return list;
}

/**
 * The entry {@link detectClis} would list under `name`, looking up only that
 * name on PATH (not every known CLI).
 */
function lookupCli(
  name: string,
  config: Config,
  opts: DetectOptions,
): CliEntry | undefined {
  const custom = Object.hasOwn(config.clis, name)
    ? config.clis[name]
    : undefined;
  const only = custom ? { ...config, clis: { [name]: custom } } : {
    ...config,
    clis: {},
  };
  if (
    !custom && name !== DEMO_CLI &&
    !(KNOWN_CLIS as readonly string[]).includes(name)
  ) {
    return undefined;
  }
  return detectClis(only, { ...opts, known: [name] }).find((e) =>
    e.name === name
  );
}

/**
 * The entry for `--cli <name>`. `name` may carry extra arguments
 * (`"claude --model x"`): the first word is looked up, the rest appended.
 * @throws {AppError} ``unknown CLI '<x>'. Detected CLIs: a, b, demo``
 */
export function resolveCli(
  name: string,
  config: Config,
  opts: DetectOptions = {},
): CliEntry {
  const words = name.trim() === "" ? [] : splitCommand(name);
  const first = words[0] ?? "";
  const hit = first === "" ? undefined : lookupCli(first, config, opts);
  if (!hit) {
    const all = detectClis(config, opts);
    throw new AppError(
      `unknown CLI '${first || name}'. Detected CLIs: ${
        all.map((e) => e.name).join(", ")
      }. Register another with \`git paw add-cli <name> <command>\`.`,
      "unknown_cli",
    );
  }
  return words.length > 1
    ? { ...hit, argv: [...hit.argv, ...words.slice(1)] }
    : hit;
}
