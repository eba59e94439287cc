/**
 * What the MCP server's fast start ({@link ../mcp/front.ts}) reads through
 * the session area: where the config files are (without the TOML parser
 * and schema), and the full host for the server behind it.
 * @module
 */
import type { FrontHost } from "../mcp/front.ts";
import { globalConfigPath, repoConfigPath } from "../session/config_paths.ts";

/** The fast start's host. */
export const FRONT_HOST: FrontHost = {
  configPaths: (repo) => [globalConfigPath(), repoConfigPath(repo)],
  full: async () => (await import("./mcp_host.ts")).MCP_HOST,
};
