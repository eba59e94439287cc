/**
 * Registers the session commands on the program: `start`, `stop`, `purge`,
 * `status`, `pause`, `add`, `remove`, `agents`, `tell`, plus the Sessions-core commands
 * (`init`, `list-clis`, `add-cli`, `remove-cli`, `__demo-agent`).
 * Command modules are imported lazily so each command loads only what it
 * needs.
 * @module
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { registerSessionCoreCommands } from "./core_cli.ts";
import type { StartOptions } from "./start.ts";
import type { FastStartOptions } from "./start_args.ts";

function positiveMinutes(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0)) {
    throw new InvalidArgumentError(
      `--max-minutes must be a positive number, got '${v}'`,
    );
  }
  return n;
}

function splitList(v: string): string[] {
  return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** What the session commands run; tests replace `start`. */
export type SessionCommandDeps = {
  /** Runs `git paw start` (default: lib/session/start.ts). */
  start?: (opts: StartOptions) => Promise<void>;
};

async function runStart(opts: StartOptions): Promise<void> {
  const { startCommand } = await import("./start.ts");
  await startCommand(opts);
}

/** Add this area's subcommands to `program`. */
export function registerSessionCommands(
  program: Command,
  deps: SessionCommandDeps = {},
): void {
  const start = deps.start ?? runStart;
  program
    .command("start")
    .description(
      "Start (or resume/recover) the session: one worktree and tmux pane per branch, each running an AI CLI",
    )
    .option("--cli <name>", "CLI for every branch (see `git paw list-clis`)")
    .option("--branches <list>", "comma-separated branches", splitList)
    .option("--preset <name>", "use [presets.<name>] from the config")
    .option("--dry-run", "print the plan and change nothing")
    .option("--no-broker", "run without the broker and dashboard pane")
    .option(
      "--no-rebase",
      "do not rebase existing branches onto the default branch",
    )
    .option("--no-attach", "never attach; print how to attach instead")
    .option(
      "--supervisor",
      "add a supervisor pane: an AI CLI in the repo root that watches, approves and checks the agents (wins over [supervisor] enabled)",
    )
    .option(
      "--no-supervisor",
      "no supervisor, whatever [supervisor] enabled says",
    )
    .addOption(
      new Option("--from-all-specs", "one agent per pending spec")
        .conflicts(["specs", "fromSpecs"]),
    )
    .addOption(new Option("--from-specs").hideHelp().conflicts("specs"))
    .option(
      "--specs [names]",
      "agents for these specs (comma-separated); without names, pick them",
      splitList,
    )
    .addOption(
      new Option("--specs-format <format>", "read the specs in this format")
        .choices(["openspec", "markdown", "speckit"]),
    )
    .option(
      "--unattended",
      "no person needed: approvals by policy (queue), stalled agents nudged; stays in the foreground and exits with a summary",
    )
    .option(
      "--max-minutes <n>",
      "time budget of an --unattended run (default 60)",
      positiveMinutes,
    )
    .option(
      "--stop-when-done",
      "stop the session when an --unattended run ends with every agent done",
    )
    .option("--json", "print the --unattended summary as JSON")
    .action(async (
      o: Omit<FastStartOptions, "noAttach"> & {
        attach: boolean;
        fromAllSpecs?: boolean;
        fromSpecs?: boolean;
        specs?: string[] | true;
      },
      cmd: Command,
    ) => {
      if (
        !o.unattended &&
        (o.maxMinutes !== undefined || o.stopWhenDone || o.json)
      ) {
        cmd.error(
          "error: --max-minutes, --stop-when-done and --json go with --unattended",
          { exitCode: 2 },
        );
      }
      // main.ts reads the common forms itself (start_args.ts, same
      // meaning): keep the two in step (tests/session/start_args_test.ts).
      await start({
        cli: o.cli,
        branches: o.branches,
        preset: o.preset,
        dryRun: o.dryRun,
        broker: o.broker,
        rebase: o.rebase,
        noAttach: !o.attach,
        fromAllSpecs: o.fromAllSpecs || o.fromSpecs,
        specs: o.specs,
        specsFormat: o.specsFormat,
        supervisor: o.supervisor,
        unattended: o.unattended,
        maxMinutes: o.maxMinutes,
        stopWhenDone: o.stopWhenDone,
        json: o.json,
      });
    });

  program
    .command("stop")
    .description(
      "Stop the session (tmux and broker); worktrees and state are kept for `git paw start`",
    )
    .option(
      "--force",
      "accepted for compatibility (stop never deletes anything)",
    )
    .action(async () => {
      const { stopCommand } = await import("./stop.ts");
      await stopCommand();
    });

  program
    .command("purge")
    .description(
      "Remove the session for good: tmux, worktrees, created branches, state",
    )
    .option("--force", "do not ask; discard uncommitted work")
    .option("--stale", "purge every stale session on this machine")
    .action(async (o: { force?: boolean; stale?: boolean }) => {
      const { purgeCommand } = await import("./purge.ts");
      await purgeCommand(o);
    });

  program
    .command("status")
    .description("Show the session of this repo")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const { statusCommand } = await import("./status.ts");
      await statusCommand(o);
    });

  program
    .command("pause")
    .description(
      "Detach and stop the dashboard/broker; agent panes keep running",
    )
    .action(async () => {
      const { pauseCommand } = await import("./pause.ts");
      await pauseCommand();
    });

  program
    .command("add")
    .description(
      "Add an agent for <branch> (or for a pending spec) to the running session",
    )
    .argument("[branch]", "branch (created from HEAD when missing)")
    .option(
      "--cli <name>",
      "CLI for the new agent (default: the first agent's)",
    )
    .option(
      "--from-spec <name>",
      "the agent works on this pending spec, on its branch",
    )
    .action(
      async (
        branch: string | undefined,
        o: { cli?: string; fromSpec?: string },
        cmd: Command,
      ) => {
        if (branch !== undefined && o.fromSpec !== undefined) {
          cmd.error(
            "error: <branch> and --from-spec cannot be used together (the spec names its branch)",
            { exitCode: 2 },
          );
        }
        if (branch === undefined && o.fromSpec === undefined) {
          cmd.error("error: missing required argument 'branch'", {
            exitCode: 2,
          });
        }
        const { addCommand } = await import("./add.ts");
        await addCommand(branch, o);
      },
    );

  program
    .command("remove")
    .description("Remove the agent of <branch> (pane and worktree)")
    .argument("<branch>", "branch of the agent")
    .option("--force", "remove even with uncommitted work")
    .option("--keep-worktree", "close the pane but keep the worktree")
    .action(
      async (
        branch: string,
        o: { force?: boolean; keepWorktree?: boolean },
      ) => {
        const { removeCommand } = await import("./remove.ts");
        await removeCommand(branch, o);
      },
    );

  program
    .command("agents")
    .description(
      "Each agent of the session: CLI, status and attention, pane, worktree, last message, what it waits for",
    )
    .option("--json", "print JSON (an array, one object per agent)")
    .option("--session <name>", "the session (default: this repo's)")
    .action(async (o: { json?: boolean; session?: string }) => {
      const { agentsCommand } = await import("./agents_cmd.ts");
      await agentsCommand(o);
    });

  program
    .command("tell")
    .description(
      "Give an agent a message: typed into its pane when its CLI is idle at its prompt, else queued as agent.feedback",
    )
    .argument("<agent>", "agent id or branch")
    .argument("<text...>", "the message")
    .option("--queue", "always queue it as agent.feedback")
    .option("--json", "print what was done as JSON")
    .option("--session <name>", "the session (default: this repo's)")
    .action(
      async (
        agent: string,
        text: string[],
        o: { queue?: boolean; json?: boolean; session?: string },
      ) => {
        const { tellCommand } = await import("./tell.ts");
        await tellCommand(agent, text, o);
      },
    );

  registerSessionCoreCommands(program);
}
