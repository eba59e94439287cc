/**
 * Builds the `git-paw` command tree. Each area registers its own commands.
 * @module
 */
import { Command } from "commander";
import { VERSION } from "../version.ts";
import { registerBrokerCommands } from "../broker/cli.ts";
import { registerSessionCommands } from "../session/cli.ts";
import { registerCoordCommands } from "../coord/cli.ts";
import { registerDashboardCommands } from "../dashboard/cli.ts";
import {
  standaloneBrokerPlugins,
  standaloneCredentials,
} from "./broker_plugins.ts";
import { registerMcpCommands } from "../mcp/cli.ts";
import { MCP_HOST } from "./mcp_host.ts";
import { registerApprovalCommands } from "../session/approvals_cmd.ts";
import { registerReviewCommands } from "../session/review_cli.ts";

/** A fresh program; `main.ts` parses argv with it. */
export function buildProgram(): Command {
  const program = new Command("git-paw")
    .description(
      "Parallel AI Worktrees: one git worktree and tmux pane per branch, each running an AI coding CLI, coordinated by a local broker.",
    )
    .version(VERSION, "-V, --version")
    .showSuggestionAfterError(true)
    .exitOverride();
  registerSessionCommands(program);
  // The entry layer wires each command's plugins (composition root).
  registerBrokerCommands(program, {
    plugins: standaloneBrokerPlugins,
    credentials: standaloneCredentials,
  });
  registerCoordCommands(program);
  registerDashboardCommands(program);
  // The approval queue: `approve`, `deny`, `approvals` (issue 13).
  registerApprovalCommands(program);
  program
    .command("doctor")
    .description(
      "Check what a session needs: git, tmux, Deno, each AI CLI (version, credentials, trust), the broker port, inotify limits, config files",
    )
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const { doctorCommand } = await import("../session/doctor.ts");
      await doctorCommand(o);
    });
  registerMcpCommands(program, MCP_HOST);
  // Review, integrate, merge.
  registerReviewCommands(program);
  return program;
}
