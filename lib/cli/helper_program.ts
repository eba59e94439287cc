/**
 * Programs for the commands an agent's CLI runs all the time, parsed with
 * their own command definitions alone (the same ones `buildProgram()`
 * registers), without the session, broker, dashboard and review command
 * trees and the config schema and TOML parser those load (~100 ms):
 * the agent helper (`publish …`, `inbox`, `done`) and git's hooks
 * (`__hook`), on every report and commit; and `mcp`, which a CLI starts
 * per agent at launch (gemini holds its first prompt until it answers).
 * @module
 */
import { Command } from "commander";
import { VERSION } from "../version.ts";
import { registerCoordCommands } from "../coord/cli.ts";
import { registerMcpCommands } from "../mcp/cli.ts";
import { MCP_HOST } from "./mcp_host.ts";

/**
 * A program with only the command `name` starts (one of
 * `HELPER_COMMANDS` in lib/cli/internal.ts); `main.ts` parses with it.
 */
export function buildHelperProgram(name: string): Command {
  const program = new Command("git-paw")
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride();
  if (name === "mcp") registerMcpCommands(program, MCP_HOST);
  else registerCoordCommands(program);
  return program;
}
