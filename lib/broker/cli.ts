/**
 * Registers the broker commands on the program.
 * @module
 */
import type { Command } from "commander";

/** Add this area's subcommands to `program`. */
export function registerBrokerCommands(_program: Command): void {
}
