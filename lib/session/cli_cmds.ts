/**
 * `list-clis`, `add-cli`, `remove-cli` (docs/REFERENCE.md, "AI CLI detection", "Deliberate differences":
 * `list-clis` works outside a repo, `remove-cli` errors are single-wrapped).
 * @module
 */
import { AppError, UsageError } from "../core/errors.ts";
import type { ConfigFile } from "../core/config.ts";
import { tryRepoRoot } from "../adapters/git.ts";
import {
  globalConfigPath,
  loadConfig,
  readConfigFile,
  repoConfigPath,
  writeGlobalConfig,
} from "./config_store.ts";
import {
  type CliEntry,
  DEMO_CLI,
  detectClis,
  type EnvGetter,
  joinCommand,
  KNOWN_CLIS,
  splitCommand,
  which,
} from "./clis.ts";
import { eprintln, printJson, println } from "../output.ts";
import {
  profileFor,
  type ProfileSummary,
  profileSummary,
} from "../core/cli_profiles.ts";

/** Where text output goes (tests pass a collector). */
export type Out = { out: (line: string) => void; err: (line: string) => void };

const stdOut: Out = { out: println, err: eprintln };

/** Options for {@link listClis}. */
export type ListClisOptions = { json?: boolean; cwd?: string; io?: Out };

/** JSON shape of one `list-clis --json` row. */
export type CliRow = {
  name: string;
  display: string;
  source: CliEntry["source"];
  path: string;
  argv: string[];
  /** What git-paw does for this CLI (its profile). */
  supports: ProfileSummary;
};

/**
 * `git paw list-clis [--json]`: detected, custom and built-in CLIs. Reads the
 * repo config too when run inside a repo; works anywhere.
 */
export async function listClis(opts: ListClisOptions = {}): Promise<void> {
  const io = opts.io ?? stdOut;
  const repo = await tryRepoRoot(opts.cwd ?? Deno.cwd());
  const config = await loadConfig(repo, {
    onWarning: (m) => io.err(`warning: ${m}`),
  });
  const clis = detectClis(config, {
    onWarning: (m) => io.err(`warning: ${m}`),
  });
  if (opts.json) {
    const rows: CliRow[] = clis.map((c) => ({
      name: c.name,
      display: c.display,
      source: c.source,
      path: c.path,
      argv: c.argv,
      supports: profileSummary(profileFor(c.name, c.argv[0] ?? "")),
    }));
    if (io === stdOut) printJson({ clis: rows });
    else io.out(JSON.stringify({ clis: rows }, null, 2));
    return;
  }
  io.out(`${"NAME".padEnd(15)} ${"SOURCE".padEnd(10)} PATH`);
  for (const c of clis) {
    const where = c.source === "builtin"
      ? "(built into git-paw: a demo agent, no AI service needed)"
      : c.argv.length > 1
      ? joinCommand(c.argv)
      : c.path;
    io.out(`${c.name.padEnd(15)} ${c.source.padEnd(10)} ${where}`);
  }
  if (!clis.some((c) => c.source !== "builtin")) {
    io.err(
      "No AI CLIs found on PATH. Install one or use `git paw add-cli` to register a custom CLI (the built-in `demo` works without one).",
    );
  }
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Options for {@link addCli}. */
export type AddCliOptions = {
  displayName?: string;
  io?: Out;
  env?: EnvGetter;
  /** Global config file (default {@link globalConfigPath}). */
  globalPath?: string;
};

/**
 * `git paw add-cli <NAME> <COMMAND> [--display-name S]`: register a custom CLI
 * in the global config. The program (first word of COMMAND) must exist; a
 * bare name is resolved on PATH and stored as an absolute path.
 */
export async function addCli(
  name: string,
  command: string,
  opts: AddCliOptions = {},
): Promise<void> {
  const io = opts.io ?? stdOut;
  if (!NAME_RE.test(name)) {
    throw new UsageError(
      `invalid CLI name '${name}': use letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  if (name === DEMO_CLI) {
    throw new UsageError(
      `'${DEMO_CLI}' is the built-in demo agent; choose another name`,
    );
  }
  const argv = splitCommand(command);
  const program = argv[0]!;
  const path = which(program, opts.env);
  if (!path) {
    throw new AppError(
      program.includes("/")
        ? `command '${program}' not found or not executable`
        : `command '${program}' not found on PATH`,
      "not_found",
    );
  }
  const file = opts.globalPath ?? globalConfigPath();
  const current: ConfigFile = await readConfigFile(file);
  const existed = current.clis?.[name] !== undefined;
  const entry: NonNullable<ConfigFile["clis"]>[string] = {
    ...(current.clis?.[name] ?? {}),
    command: joinCommand([path, ...argv.slice(1)]),
  };
  if (opts.displayName !== undefined) entry.display_name = opts.displayName;
  const next: ConfigFile = {
    ...current,
    clis: { ...(current.clis ?? {}), [name]: entry },
  };
  await writeGlobalConfig(next, file);
  io.out(`${existed ? "Updated" : "Added"} custom CLI '${name}'.`);
}

/** Options for {@link removeCli}. */
export type RemoveCliOptions = {
  io?: Out;
  cwd?: string;
  env?: EnvGetter;
  globalPath?: string;
};

/** `git paw remove-cli <NAME>`: drop a custom CLI from the global config. */
export async function removeCli(
  name: string,
  opts: RemoveCliOptions = {},
): Promise<void> {
  const io = opts.io ?? stdOut;
  const file = opts.globalPath ?? globalConfigPath();
  const current = await readConfigFile(file);
  if (current.clis?.[name] !== undefined) {
    const clis = { ...current.clis };
    delete clis[name];
    const next: ConfigFile = { ...current, clis };
    if (Object.keys(clis).length === 0) delete next.clis;
    await writeGlobalConfig(next, file);
    io.out(`Removed custom CLI '${name}'.`);
    return;
  }
  const repo = await tryRepoRoot(opts.cwd ?? Deno.cwd());
  if (repo) {
    const repoFile = await readConfigFile(repoConfigPath(repo));
    if (repoFile.clis?.[name] !== undefined) {
      throw new AppError(
        `CLI '${name}' is defined in ${
          repoConfigPath(repo)
        }, not in the global config; remove its [clis.${name}] table there`,
        "not_found",
      );
    }
  }
  if (name === DEMO_CLI) {
    throw new AppError(
      `CLI '${name}' is the built-in demo agent and cannot be removed`,
      "not_found",
    );
  }
  if (
    (KNOWN_CLIS as readonly string[]).includes(name) && which(name, opts.env)
  ) {
    throw new AppError(
      `CLI '${name}' is auto-detected on PATH, not a custom CLI; there is nothing to remove`,
      "not_found",
    );
  }
  throw new AppError(`CLI '${name}' not found in config`, "not_found");
}
