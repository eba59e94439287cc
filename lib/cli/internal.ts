/**
 * The hidden commands, `__dashboard`, `__agent-pane` (panes) and
 * `__cli-event` (a CLI's hook, on every tool call), run before
 * commander and the public commands are loaded: every pane of a session
 * runs one of them, several at once while `start` is still working, so
 * each loads only what its pane needs. Their argv is written by git-paw
 * itself (`dashboardArgv()`, `agentPaneArgv()` in session/launch.ts) and
 * parsed strictly here: `--name value` pairs, then (`__agent-pane`) `--`
 * and the CLI's argv.
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { eprintln } from "../output.ts";

/** Names of the hidden pane commands. */
export const INTERNAL_COMMANDS: readonly string[] = [
  "__dashboard",
  "__agent-pane",
  "__cli-event",
];

type Spec = {
  usage: string;
  required: readonly string[];
  optional: readonly string[];
  /** Takes `-- argv...` after the options. */
  rest: boolean;
  /** Takes one bare argument (Codex's `notify` appends its JSON). */
  payload?: boolean;
};

const SPECS: Record<string, Spec> = {
  "__dashboard": {
    usage:
      "__dashboard --session NAME --repo PATH [--port N] [--bind ADDR] [--ready-file PATH] (internal: pane 0 of a session)",
    required: ["session", "repo"],
    optional: ["port", "bind", "ready-file"],
    rest: false,
  },
  "__agent-pane": {
    usage:
      "__agent-pane --cli NAME --cwd DIR -- CLI [ARGS...] (internal: an agent pane)",
    required: ["cli", "cwd"],
    optional: [],
    rest: true,
  },
  "__cli-event": {
    usage:
      "__cli-event --cli NAME --event EVENT [--approvals queue] [JSON] (internal: a CLI's state hook)",
    required: ["cli", "event"],
    optional: ["approvals"],
    rest: false,
    payload: true,
  },
};

/**
 * The public commands an agent's CLI runs all the time (`publish …`,
 * `inbox`, `done`, git's `__hook`, the MCP server `mcp`): `main.ts` parses
 * them with their own command definitions alone
 * (lib/cli/helper_program.ts).
 */
export const HELPER_COMMANDS: readonly string[] = [
  "publish",
  "inbox",
  "done",
  "__hook",
  "mcp",
];

/** Parsed argv of a pane command. */
export type InternalArgs = {
  options: Record<string, string>;
  rest: string[];
  help: boolean;
};

/**
 * Parse the argv after the command name. Pure.
 * @throws {UsageError} an unknown or repeated option, a missing value or
 *   required option, a stray argument.
 */
export function parseInternalArgs(
  command: string,
  args: string[],
): InternalArgs {
  const spec = SPECS[command];
  if (!spec) throw new UsageError(`unknown internal command '${command}'`);
  const known = new Set([...spec.required, ...spec.optional]);
  const options: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--help" || a === "-h") {
      return { options, rest, help: true };
    }
    if (a === "--") {
      if (!spec.rest) throw new UsageError(`${command}: unexpected '--'`);
      rest.push(...args.slice(i + 1));
      break;
    }
    if (spec.payload && !a.startsWith("--") && rest.length === 0) {
      rest.push(a);
      continue;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(2, eq) : a.startsWith("--") ? a.slice(2) : "";
    if (!known.has(name)) {
      throw new UsageError(
        `${command}: unknown argument '${a}'. Usage: git-paw ${spec.usage}`,
      );
    }
    if (name in options) {
      throw new UsageError(`${command}: --${name} given twice`);
    }
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      value = args[i + 1];
      i++;
    }
    if (value === undefined) {
      throw new UsageError(`${command}: --${name} needs a value`);
    }
    options[name] = value;
  }
  for (const r of spec.required) {
    if (!(r in options)) {
      throw new UsageError(
        `${command}: --${r} is required. Usage: git-paw ${spec.usage}`,
      );
    }
  }
  return { options, rest, help: false };
}

/** Run a pane command (`args[0]` is its name); resolves to the exit code. */
export async function runInternalCommand(args: string[]): Promise<number> {
  const [command, ...tail] = args;
  if (command === "__cli-event") return await cliEvent(tail);
  const parsed = parseInternalArgs(command!, tail);
  if (parsed.help) {
    console.log(`Usage: git-paw ${SPECS[command!]!.usage}`);
    return 0;
  }
  const o = parsed.options;
  if (command === "__dashboard") {
    const port = o.port === undefined ? undefined : Number(o.port);
    if (port !== undefined && !(Number.isInteger(port) && port > 0)) {
      throw new UsageError(`invalid --port '${o.port}'`);
    }
    const opts = {
      session: o.session!,
      repo: o.repo!,
      port,
      bind: o.bind,
      readyFile: o["ready-file"],
    };
    const heal = await import("../session/heal.ts");
    if (heal.isPaneSupervisor()) {
      // Pane 0's own process only supervises: its child (the broker and
      // the TUI, which `start` waits for) is spawned before anything else
      // loads. The child reads the pane's environment file itself.
      const gaveUp = await heal.supervisePane0(opts);
      if (gaveUp) {
        const { showSupervisorGaveUp } = await import(
          "../session/dashboard_cmd.ts"
        );
        await showSupervisorGaveUp(gaveUp);
      }
      return 0;
    }
    await loadPaneEnvFile();
    const { runDashboardCommand } = await import(
      "../session/dashboard_cmd.ts"
    );
    await runDashboardCommand(opts);
    return 0;
  }
  await loadPaneEnvFile();
  const { runAgentPane } = await import("../session/agent_pane.ts");
  return await runAgentPane(parsed.rest, { cli: o.cli!, cwd: o.cwd! });
}

/**
 * `__cli-event`: a usage error is one line and exit 1, never 2 (Claude Code
 * reads exit 2 of a PreToolUse hook as "block the tool call").
 */
async function cliEvent(tail: string[]): Promise<number> {
  let parsed: InternalArgs;
  try {
    parsed = parseInternalArgs("__cli-event", tail);
  } catch (e) {
    eprintln(`git-paw: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
  if (parsed.help) {
    eprintln(`Usage: git-paw ${SPECS["__cli-event"]!.usage}`);
    return 0;
  }
  const { runCliEvent } = await import("../coord/cli_event.ts");
  return await runCliEvent({
    cli: parsed.options.cli!,
    event: parsed.options.event!,
    ...(parsed.options.approvals !== undefined
      ? { approvals: parsed.options.approvals }
      : {}),
    ...(parsed.rest[0] !== undefined ? { payloadArg: parsed.rest[0] } : {}),
  });
}

/** The pane's environment (credentials, token) from its owner-only file. */
async function loadPaneEnvFile(): Promise<void> {
  const { loadPaneEnv } = await import("../session/pane_env_load.ts");
  await loadPaneEnv();
}
