/**
 * Registers the dashboard commands on the program.
 * @module
 */
import type { Command } from "commander";

/** Add this area's subcommands to `program`. */
export function registerDashboardCommands(_program: Command): void {
}
