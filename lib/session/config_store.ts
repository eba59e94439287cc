/**
 * Reads and writes the config files (docs/REFERENCE.md, "Configuration"): the global
 * `$XDG_CONFIG_HOME/git-paw/config.toml` and the repo
 * `<repo>/.git-paw/config.toml`. Parsing is smol-toml, validation is
 * {@link validateConfig} from the pure core.
 *
 * Needs `--allow-read`, `--allow-env`; writing needs `--allow-write`.
 * @module
 */
import { parse, stringify, TomlError } from "smol-toml";
import { join } from "node:path";
import { existsSync, writeTextAtomic } from "../adapters/fs.ts";
import {
  type Config,
  type ConfigFile,
  mergeConfig,
  validateConfig,
} from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import { eprintln } from "../output.ts";
import { globalConfigPath, repoConfigPath } from "./config_paths.ts";

export {
  type EnvGetter,
  globalConfigPath,
  homeDir,
  repoConfigPath,
} from "./config_paths.ts";

/**
 * Read and validate one config file. A missing file is `{}`.
 * @throws {AppError} `Config error: <path>: <key>: <problem>` on a TOML or schema error.
 */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw new AppError(
      `Config error: ${path}: cannot read: ${(e as Error).message}`,
      "config",
      { cause: e },
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    const msg = e instanceof TomlError
      ? `invalid TOML at line ${e.line}, column ${e.column}: ${
        e.message.split("\n")[0]
      }`
      : `invalid TOML: ${(e as Error).message}`;
    throw new AppError(`Config error: ${path}: ${msg}`, "config", {
      cause: e,
    });
  }
  const r = validateConfig(raw, path);
  if (!r.ok) throw new AppError(`Config error: ${r.error}`, "config");
  return r.value;
}

/** Options for {@link loadConfig}. */
export type LoadConfigOptions = {
  /** Receives warnings (default: printed on stderr as `warning: …`). */
  onWarning?: (message: string) => void;
  /** Global config file to read (default {@link globalConfigPath}). */
  globalPath?: string;
};

/**
 * Load the merged config: repo file (when `repoRoot` is given) over the
 * global file, key by key, defaults applied. Also applies the speckit
 * conveniences (docs/REFERENCE.md, "Configuration": auto-detected `.specify/specs`, constitution path).
 * @throws {AppError} on a TOML or schema error, naming the file and key.
 */
export async function loadConfig(
  repoRoot: string | null,
  opts: LoadConfigOptions = {},
): Promise<Config> {
  const global = await readConfigFile(opts.globalPath ?? globalConfigPath());
  const repo = repoRoot ? await readConfigFile(repoConfigPath(repoRoot)) : {};
  const warn = opts.onWarning ?? ((m: string) => eprintln(`warning: ${m}`));
  const config = mergeConfig(global, repo, { onWarning: warn });
  if (repoRoot) {
    if (
      config.specs === null && existsSync(join(repoRoot, ".specify", "specs"))
    ) {
      config.specs = { dir: ".specify/specs", type: "speckit" };
    }
    if (config.specs?.type === "speckit" && !config.governance.constitution) {
      const c = join(
        repoRoot,
        config.specs.dir,
        "..",
        "memory",
        "constitution.md",
      );
      if (existsSync(c)) config.governance.constitution = c;
    }
  }
  return config;
}

/**
 * Replace the global config file with `file` (validated first), written
 * atomically. Comments in the old file are not kept.
 */
export async function writeGlobalConfig(
  file: ConfigFile,
  path: string = globalConfigPath(),
): Promise<string> {
  const r = validateConfig(file, path);
  if (!r.ok) throw new AppError(`Config error: ${r.error}`, "config");
  const header =
    "# git-paw global config (rewritten by `git paw add-cli`/`remove-cli`).\n";
  await writeTextAtomic(
    path,
    header + stringify(file as Record<string, unknown>) + "\n",
  );
  return path;
}
