/**
 * Registers the review commands (issue "Review, integrate, merge"):
 * `diff`, `integrate`, `merge`. Command modules load lazily.
 * @module
 */
import type { Command } from "commander";

function splitList(v: string): string[] {
  return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Add the review commands to `program`. */
export function registerReviewCommands(program: Command): void {
  program
    .command("diff")
    .description(
      "Show each agent's changes against its merge base with the default branch",
    )
    .argument("[agent]", "one agent (branch name or agent id)")
    .option("--stat", "a diffstat instead of the patch")
    .option("--json", "machine-readable files, hunks and lines")
    .option(
      "--worktree",
      "compare the agent's worktree files (uncommitted edits too), not its commits",
    )
    .action(
      async (
        agent: string | undefined,
        o: { stat?: boolean; json?: boolean; worktree?: boolean },
      ) => {
        const { diffCommand } = await import("./diff.ts");
        await diffCommand({ ...o, ...(agent ? { agent } : {}) });
      },
    );

  program
    .command("integrate")
    .description(
      "Show what the integration lane found when it last merged and tested all agent branches together",
    )
    .option("--status", "show the last check (the default)")
    .option("--json", "machine-readable status")
    .action(async (o: { json?: boolean }) => {
      const { integrateCommand } = await import("./integrate.ts");
      await integrateCommand(o);
    });

  program
    .command("merge")
    .description(
      "Merge the agents' branches one by one, each only if the merged result passes the test command; left-out branches are named and their agents told",
    )
    .option("--dry-run", "show what would merge; move nothing, tell no one")
    .option("--into <branch>", "target branch (default: the default branch)")
    .option(
      "--only <list>",
      "comma-separated agents (branch or agent id)",
      splitList,
    )
    .action(async (o: { dryRun?: boolean; into?: string; only?: string[] }) => {
      const { mergeCommand } = await import("./merge.ts");
      await mergeCommand(o);
    });
}
