/**
 * Registers the Sessions-core commands: `init`, `list-clis`, `add-cli`,
 * `remove-cli` and the hidden `__demo-agent`. Called from
 * `lib/session/cli.ts`.
 * @module
 */
import type { Command } from "commander";
import { addCli, listClis, removeCli } from "./cli_cmds.ts";
import { initRepo } from "./init.ts";
import { DEMO_AGENT_COMMAND } from "./clis.ts";
import { AppError } from "../core/errors.ts";

/** Add `init`, `list-clis`, `add-cli`, `remove-cli`, `__demo-agent` to `program`. */
export function registerSessionCoreCommands(program: Command): void {
  program
    .command("init")
    .description(
      "Create .git-paw/ (config template, logs/, tmp/) and add its local paths to .gitignore",
    )
    .action(async () => {
      await initRepo();
    });

  program
    .command("list-clis")
    .description(
      "List the AI CLIs git-paw can launch (detected, custom, built-in demo)",
    )
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      await listClis({ json: opts.json === true });
    });

  program
    .command("add-cli")
    .description(
      "Register a custom CLI in the global config (quote a command with arguments)",
    )
    .argument("<name>", "name to use with --cli")
    .argument("<command>", 'program and arguments, e.g. "my-agent --fast"')
    .option("--display-name <name>", "name shown in pickers")
    .action(
      async (name: string, command: string, opts: { displayName?: string }) => {
        await addCli(name, command, { displayName: opts.displayName });
      },
    );

  program
    .command("remove-cli")
    .description("Remove a custom CLI from the global config")
    .argument("<name>", "custom CLI name")
    .action(async (name: string) => {
      await removeCli(name);
    });

  program
    .command(DEMO_AGENT_COMMAND, { hidden: true })
    .description("Run the built-in demo agent (used by `--cli demo`)")
    .argument("[prompt...]", "first prompt, e.g. the boot block")
    .action(async (prompt: string[]) => {
      const { runDemoAgent } = await import("./demo_agent.ts");
      const code = await runDemoAgent({ prompt: prompt.join(" ") });
      if (code !== 0) {
        throw new AppError(
          "the demo agent must run inside a git worktree",
          "demo",
        );
      }
    });
}
