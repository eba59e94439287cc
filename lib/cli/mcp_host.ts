/**
 * What the MCP server reads through the session area (config, receipts),
 * which lib/mcp may not import: the entry layer hands it over.
 * @module
 */
import type { McpHost } from "../mcp/cli.ts";

/** The MCP server reads config and receipts through the session area. */
export const MCP_HOST: McpHost = {
  loadConfig: async (repo) =>
    await (await import("../session/config_store.ts")).loadConfig(repo, {
      onWarning: () => {},
    }),
  findSession: async (repo) =>
    await (await import("../session/receipt.ts")).findReceiptForRepo(repo),
};
