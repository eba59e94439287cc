/**
 * What the MCP server's fast start ({@link ../mcp/front.ts}) reads through
 * the session area: where the config files are (without the TOML parser
 * and schema), and the full host for the server behind it.
 * @module
 */
import type { FrontHost } from "../mcp/front.ts";
import { normalizeAbsolute } from "../coord/plain_layout.ts";

/**
 * `[globalConfigPath(env), repoConfigPath(repo)]` of
 * lib/session/config_paths.ts without `node:path` (~15 ms of the MCP
 * server's start): the same paths for absolute ones; it throws (the full
 * start then runs) where `HOME`, the base or `repo` is not absolute.
 */
export function plainConfigPaths(
  repo: string,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): string[] {
  const xdg = env("XDG_CONFIG_HOME");
  const home = env("HOME") ?? env("USERPROFILE");
  const base = xdg && xdg.startsWith("/")
    ? xdg
    : home
    ? `${home}/.config`
    : undefined;
  if (!base?.startsWith("/") || !repo.startsWith("/")) {
    throw new Error("not plain paths: the full start decides");
  }
  return [
    normalizeAbsolute(`${base}/git-paw/config.toml`),
    normalizeAbsolute(`${repo}/.git-paw/config.toml`),
  ];
}

/** The fast start's host. */
export const FRONT_HOST: FrontHost = {
  configPaths: (repo) => plainConfigPaths(repo),
  full: async () => (await import("./mcp_host.ts")).MCP_HOST,
};
