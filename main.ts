/**
 * git-paw entry point: parse argv, run the command, map errors to exit codes
 * (0 ok, 1 error, 2 usage/cancelled).
 * @module
 */
import { AppError } from "./lib/core/errors.ts";
import { eprintln } from "./lib/output.ts";
import { trace } from "./lib/trace.ts";
import {
  HELPER_COMMANDS,
  INTERNAL_COMMANDS,
  runInternalCommand,
} from "./lib/cli/internal.ts";

/** Run git-paw with `args`; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  trace("main: modules loaded");
  // Plain `git paw` means `git paw start`.
  const argv = args.length === 0 ? ["start"] : args;
  try {
    if (INTERNAL_COMMANDS.includes(argv[0]!)) {
      // Pane processes skip commander and the public commands.
      return await runInternalCommand(argv);
    }
    if (argv.length === 2 && argv[0] === "mcp" && argv[1] === "--agent") {
      // The argv git-paw registers with every CLI (started per agent at its
      // launch, gemini and codex wait for it): no option parsing to do, and
      // its fast start answers before the SDK and the tools load.
      const [{ runAgentFront }, { FRONT_HOST }] = await Promise.all([
        import("./lib/mcp/front.ts"),
        import("./lib/cli/mcp_front_host.ts"),
      ]);
      trace("main: mcp front loaded");
      if (await runAgentFront(FRONT_HOST)) return Deno.exitCode;
      const [{ runMcpCommand }, { MCP_HOST }] = await Promise.all([
        import("./lib/mcp/run.ts"),
        import("./lib/cli/mcp_host.ts"),
      ]);
      trace("main: mcp loaded");
      await runMcpCommand({ agent: true }, MCP_HOST);
      return Deno.exitCode;
    }
    if (argv[0] === "publish" && argv[1] === "status") {
      // An agent's report, the helper's most frequent call: plain argv is
      // parsed without commander (~60 ms).
      const { runPlainPublishStatus } = await import("./lib/coord/cli.ts");
      if (await runPlainPublishStatus(argv.slice(2))) return Deno.exitCode;
    }
    if (HELPER_COMMANDS.includes(argv[0]!)) {
      // An agent's reports, git's hooks, the MCP server: that command only.
      const { buildHelperProgram } = await import(
        "./lib/cli/helper_program.ts"
      );
      trace("main: helper program loaded");
      await buildHelperProgram(argv[0]!).parseAsync(argv, { from: "user" });
      return Deno.exitCode;
    }
    if (argv[0] === "start") {
      // The common forms of `start` without loading commander (the
      // command's first step comes sooner); the rest goes through it.
      const { parseStartArgs } = await import("./lib/session/start_args.ts");
      const opts = parseStartArgs(argv.slice(1));
      if (opts) {
        const { startCommand } = await import("./lib/session/start.ts");
        trace("main: start loaded");
        await startCommand(opts);
        return Deno.exitCode;
      }
    }
    const { buildProgram } = await import("./lib/cli/program.ts");
    trace("main: program loaded");
    await buildProgram().parseAsync(argv, { from: "user" });
    return Deno.exitCode;
  } catch (e) {
    if (isCommanderError(e)) {
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

/** commander's own errors (help, version, bad usage), without loading it. */
function isCommanderError(
  e: unknown,
): e is { code: string; exitCode: number } {
  const c = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof c === "string" &&
    c.startsWith("commander.") &&
    typeof (e as { exitCode?: unknown }).exitCode === "number";
}

/**
 * `start` (also plain `git paw`) first asks git for the repo and tmux for its
 * version; ask both now, so they run while the command modules load.
 */
async function askAhead(args: string[]): Promise<void> {
  if (args.length > 0 && args[0] !== "start") return;
  if (args.includes("--help") || args.includes("-h")) return;
  const { runAhead } = await import("./lib/adapters/runner.ts");
  const { GIT_ENV, REPO_ROOT_ARGS } = await import(
    "./lib/adapters/git_env.ts"
  );
  try {
    runAhead("git", REPO_ROOT_ARGS, { cwd: Deno.cwd(), env: GIT_ENV });
    runAhead("tmux", ["-V"]);
  } catch { /* no cwd or no permission: the command reports it */ }
}

if (import.meta.main) {
  await askAhead(Deno.args);
  const code = await main(Deno.args);
  trace("main: exit");
  Deno.exit(code);
}
