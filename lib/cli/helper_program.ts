/**
 * The program for the agent helper commands (`publish …`, `inbox`, `done`)
 * and the git hooks (`__hook`): the coordination area's commands alone, the
 * same definitions `buildProgram()` registers, without the session,
 * broker, dashboard, MCP and review command trees (and the config schema
 * and TOML parser they load). An agent runs these on every report and git
 * on every commit, so they skip ~100 ms of module loading.
 * @module
 */
import { Command } from "commander";
import { VERSION } from "../version.ts";
import { registerCoordCommands } from "../coord/cli.ts";

/** A program with only the coordination commands; `main.ts` parses with it. */
export function buildHelperProgram(): Command {
  const program = new Command("git-paw")
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride();
  registerCoordCommands(program);
  return program;
}
