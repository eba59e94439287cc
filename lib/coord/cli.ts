/**
 * Registers the coord commands on the program.
 * @module
 */
import type { Command } from "commander";

/** Add this area's subcommands to `program`. */
export function registerCoordCommands(_program: Command): void {
}
