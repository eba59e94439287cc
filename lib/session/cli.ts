/**
 * Registers the session commands on the program.
 * @module
 */
import type { Command } from "commander";

/** Add this area's subcommands to `program`. */
export function registerSessionCommands(_program: Command): void {
}
