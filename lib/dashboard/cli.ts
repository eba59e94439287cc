/**
 * Registers the dashboard commands on the program: `replay`.
 * @module
 */
import type { Command } from "commander";

/** Add this area's subcommands to `program`. */
export function registerDashboardCommands(program: Command): void {
  program
    .command("replay")
    .description(
      "Show a pane log recorded with [logging] enabled (escape sequences stripped unless --color)",
    )
    .argument("[branch]", "branch, log file stem or file name")
    .option("--list", "list the recorded logs instead")
    .option("--color", "keep colours: page the raw log through `less -R`")
    .option("--session <name>", "session log directory (default: the newest)")
    .option("--json", "with --list: print JSON")
    .action(async (
      branch: string | undefined,
      o: { list?: boolean; color?: boolean; session?: string; json?: boolean },
    ) => {
      const { replayCommand } = await import("./replay_cmd.ts");
      await replayCommand({ branch, ...o });
    });
}
