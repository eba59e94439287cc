/**
 * Registers the session commands on the program.
 * @module
 */
import type { Command } from "commander";
import { registerSessionCoreCommands } from "./core_cli.ts";

/** Add this area's subcommands to `program`. */
export function registerSessionCommands(program: Command): void {
  registerSessionCoreCommands(program);
}
