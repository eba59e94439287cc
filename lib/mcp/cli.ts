/**
 * Registers `git paw mcp`. Reading the config and the session receipt
 * belongs to the session area, which this area may not import: the entry
 * layer passes them in as a {@link McpHost}. The server and the MCP SDK load
 * only when the command runs.
 * @module
 */
import type { Command } from "commander";
import type { ConfigLoader, SessionFinder } from "./context.ts";

/** What the entry layer provides: config and session readers. */
export type McpHost = {
  loadConfig: ConfigLoader;
  findSession: SessionFinder;
};

/** Options of `git paw mcp` after parsing. */
export type McpCommandOptions = {
  repo?: string;
  logFile?: string;
  agent?: boolean;
};

/** Add `mcp` to `program`. */
export function registerMcpCommands(program: Command, host: McpHost): void {
  program.command("mcp")
    .description(
      "Serve this repo's git-paw state to an MCP client over stdio (read-only tools; --agent adds this worktree's coordination tools)",
    )
    .option(
      "--repo <path>",
      "repository to serve (default: the one the current directory is in)",
    )
    .option("--log-file <path>", "also append the server's log to this file")
    .option(
      "--agent",
      "agent mode: add publish/inbox tools for the agent of this worktree",
    )
    .action(async (o: McpCommandOptions) => {
      const { runMcpCommand } = await import("./run.ts");
      await runMcpCommand(o, host);
    });
}
