/**
 * git-paw entry point: parse argv, run the command, map errors to exit codes
 * (0 ok, 1 error, 2 usage/cancelled).
 * @module
 */
import { CommanderError } from "commander";
import { buildProgram } from "./lib/cli/program.ts";
import { AppError } from "./lib/core/errors.ts";
import { eprintln } from "./lib/cli/output.ts";
import { trace } from "./lib/trace.ts";

/** Run git-paw with `args`; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  trace("main: modules loaded");
  const program = buildProgram();
  // Plain `git paw` means `git paw start`.
  const argv = args.length === 0 ? ["start"] : args;
  try {
    await program.parseAsync(argv, { from: "user" });
    return Deno.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      ) return 0;
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof AppError) {
      eprintln(`error: ${e.message}`);
      return e.exitCode;
    }
    if (e instanceof Error && e.name === "ExitPromptError") {
      eprintln("Cancelled.");
      return 2;
    }
    eprintln(`error: ${e instanceof Error ? e.message : String(e)}`);
    if (Deno.env.get("GIT_PAW_DEBUG")) console.error(e);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  trace("main: exit");
  Deno.exit(code);
}
