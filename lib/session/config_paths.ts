/**
 * Where the config files live (docs/REFERENCE.md, "Configuration"), without
 * the TOML parser and schema {@link ./config_store.ts} loads: the MCP
 * server's fast start reads only whether they exist and mention `mcp`.
 * Needs `--allow-env`.
 * @module
 */
import { isAbsolute, join } from "node:path";
import { AppError } from "../core/errors.ts";

/** Reads one environment variable (default: `Deno.env.get`). */
export type EnvGetter = (name: string) => string | undefined;

const denoEnv: EnvGetter = (k) => Deno.env.get(k);

/** Home directory, or an error naming what to set. */
export function homeDir(env: EnvGetter = denoEnv): string {
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) {
    throw new AppError(
      "Config error: cannot find the home directory; set HOME",
      "config",
    );
  }
  return home;
}

/** `$XDG_CONFIG_HOME/git-paw/config.toml` if that is absolute, else `~/.config/git-paw/config.toml`. */
export function globalConfigPath(env: EnvGetter = denoEnv): string {
  const xdg = env("XDG_CONFIG_HOME");
  const base = xdg && isAbsolute(xdg) ? xdg : join(homeDir(env), ".config");
  return join(base, "git-paw", "config.toml");
}

/** `<repo>/.git-paw/config.toml`. */
export function repoConfigPath(repo: string): string {
  return join(repo, ".git-paw", "config.toml");
}
