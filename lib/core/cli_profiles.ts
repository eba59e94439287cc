/**
 * What git-paw knows about each AI CLI, as data: how its first prompt is
 * passed so that user-given options cannot swallow it, which instruction
 * file it reads, where git-paw's own commands are pre-allowed, how a fresh
 * worktree's trust is handled, which state hooks it offers, how a
 * conversation is resumed and what its sandbox needs. Facts for claude:
 * docs/clis/claude.md; for the others: their public docs, as far as they go
 * (a CLI whose docs say nothing gets its prompt typed into the pane). Pure.
 * @module
 */
import {
  approvalHookArgs,
  approvalHookTimeout,
  type ApprovalsMode,
} from "./approval_hooks.ts";

/** How the first prompt reaches a CLI at launch. */
export type PromptPassing =
  /** `argv… -- <prompt>`: nothing the user put in argv can take it. */
  | { kind: "after-separator" }
  /** `argv… <prompt>`. */
  | { kind: "positional" }
  /** `argv… <flag> <prompt>` (e.g. gemini `-i`). */
  | { kind: "flag"; flag: string }
  /** Typed into the pane once the CLI runs. */
  | { kind: "type" };

/** Which instruction file a CLI reads, and how it is pointed at AGENTS.md. */
export type Instructions =
  /** Reads `AGENTS.md` itself. */
  | { kind: "agents-md" }
  /**
   * Reads `file`; git-paw makes it import AGENTS.md with `line` (a file it
   * creates holds just that line; a user's file gets a marked block).
   */
  | { kind: "import"; file: string; line: string }
  /** Not known: AGENTS.md is written and the boot prompt names it. */
  | { kind: "unknown" };

/**
 * Settings formats git-paw can write pre-allow rules and hooks into:
 * claude `.claude/settings.local.json` (`permissions.allow`, `hooks`);
 * gemini `.gemini/settings.json` (`policyPaths` to a policy file of
 * git-paw's, `hooks` — never `tools.allowed`, which denies every other
 * shell command); codex `.codex/config.toml` (sandbox) plus
 * `.codex/rules/git-paw.rules` (prefix rules).
 */
export type SettingsFormat = "claude" | "gemini" | "codex";

/**
 * Where a CLI reads MCP servers inside the worktree (worktree-relative
 * `file`), and in which format git-paw registers `git paw mcp --agent`
 * there, pre-allowed: claude `.mcp.json` `mcpServers` (approved by
 * `enabledMcpjsonServers` and allowed by `mcp__git-paw__*` in its local
 * settings); gemini `mcpServers` of `.gemini/settings.json` with
 * `trust: true`; codex `[mcp_servers.git-paw]` of `.codex/config.toml` with
 * `default_tools_approval_mode = "approve"`.
 */
export type McpRegistration = { file: string; format: SettingsFormat };

/** The name git-paw's MCP server is registered under in every CLI. */
const MCP_SERVER_NAME = "git-paw";

/** How a fresh worktree's folder trust is handled. */
export type TrustHandling =
  /** The CLI trusts a linked worktree of a trusted repo itself. */
  | "inherits-repo"
  /** git-paw adds the worktree to `~/.gemini/trustedFolders.json` when the repo is trusted there. */
  | "gemini-trusted-folders"
  /** No trust dialog known. */
  | "none";

/** One CLI's profile. */
export type CliProfile = {
  /** Profile name: a known CLI binary name, `demo`, or `generic`. */
  name: string;
  prompt: PromptPassing;
  instructions: Instructions;
  /**
   * The worktree-local settings file that carries the pre-allow rules and
   * hooks (worktree-relative), or null when git-paw writes none.
   */
  settings: { file: string; format: SettingsFormat } | null;
  /** Where git-paw registers its MCP server, or null when it does not. */
  mcp: McpRegistration | null;
  trust: TrustHandling;
  /** State hook events git-paw installs (they call `__cli-event`). */
  hookEvents: readonly string[];
  /**
   * Of {@link hookEvents}, those whose hook the CLI runs in the background
   * (Claude `"async": true`): they only report, so the CLI need not wait
   * for a Deno process. The hook orders and serialises its runs itself
   * (lib/coord/cli_event.ts). A decision event in queue mode always blocks.
   */
  backgroundHooks?: readonly string[];
  /** argv every launch needs, right after the program (codex `--no-daemon`). */
  launchArgs: readonly string[];
  /**
   * argv inserted right after the program to resume the last conversation
   * in the same directory, or null when the CLI cannot resume.
   */
  resume: readonly string[] | null;
  /**
   * The CLI runs commands in a login shell that resets PATH: the boot block
   * and AGENTS.md name the helper by absolute command.
   */
  absoluteHelper: boolean;
  /** What the CLI's sandbox needs for git-paw (words for `list-clis`), or null. */
  sandbox: string | null;
  /**
   * The CLI's shell hides the user's git config and turns hooks off
   * (`GIT_CONFIG_GLOBAL=/dev/null`, `core.hooksPath=`): the pane env gets
   * the user's identity and git-paw's hooks dir (lib/session/pane_env.ts).
   */
  hidesGitConfig?: boolean;
};

const CLAUDE: CliProfile = {
  name: "claude",
  prompt: { kind: "after-separator" },
  instructions: { kind: "import", file: "CLAUDE.md", line: "@AGENTS.md" },
  settings: { file: ".claude/settings.local.json", format: "claude" },
  mcp: { file: ".mcp.json", format: "claude" },
  trust: "inherits-repo",
  hookEvents: [
    "Notification",
    "Stop",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "UserPromptSubmit",
  ],
  // All in the background (Claude waits for none of them): a permission
  // prompt is reported by `PermissionRequest`, which carries the tool call
  // itself, so `PreToolUse` need not have recorded it first. In approvals
  // queue mode `PreToolUse` is the decision hook and blocks (its timeout
  // wins over this list).
  backgroundHooks: [
    "Notification",
    "Stop",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "UserPromptSubmit",
  ],
  launchArgs: [],
  resume: ["--continue"],
  absoluteHelper: false,
  sandbox: null,
};

const CODEX: CliProfile = {
  name: "codex",
  prompt: { kind: "after-separator" },
  instructions: { kind: "agents-md" },
  settings: { file: ".codex/config.toml", format: "codex" },
  mcp: { file: ".codex/config.toml", format: "codex" },
  // A linked worktree of a trusted repo is trusted (docs/clis/codex.md).
  trust: "inherits-repo",
  // Codex runs hooks only from `$CODEX_HOME/hooks.json` (the user's own
  // file), not from the worktree: git-paw installs none there.
  hookEvents: [],
  // Without it every pane's commands run in one shared daemon, with the
  // first pane's environment, that outlives the session.
  launchArgs: ["--no-daemon"],
  resume: ["resume", "--last"],
  absoluteHelper: true,
  sandbox:
    "network access (to reach the loopback broker) and the worktree's git dirs writable",
};

const GEMINI: CliProfile = {
  name: "gemini",
  prompt: { kind: "flag", flag: "-i" },
  instructions: { kind: "import", file: "GEMINI.md", line: "@AGENTS.md" },
  settings: { file: ".gemini/settings.json", format: "gemini" },
  mcp: { file: ".gemini/settings.json", format: "gemini" },
  trust: "gemini-trusted-folders",
  hookEvents: [
    "BeforeTool",
    "AfterTool",
    "BeforeAgent",
    "AfterAgent",
    "Notification",
  ],
  // Gemini waits for every hook (no async flag): these are started in the
  // background by the hook's shell ({@link backgroundHookCommand}), so
  // Gemini waits for none of git-paw's own (a permission `Notification`
  // carries the command in `details`). In approvals queue mode `BeforeTool`
  // is the decision hook and blocks.
  backgroundHooks: [
    "BeforeTool",
    "AfterTool",
    "BeforeAgent",
    "AfterAgent",
    "Notification",
  ],
  launchArgs: [],
  resume: ["--resume", "latest"],
  absoluteHelper: false,
  sandbox: null,
  hidesGitConfig: true,
};

const DEMO: CliProfile = {
  name: "demo",
  prompt: { kind: "positional" },
  instructions: { kind: "agents-md" },
  settings: null,
  mcp: null,
  trust: "none",
  hookEvents: [],
  launchArgs: [],
  // The demo agent keeps no conversation: a new prompt is all it needs.
  resume: [],
  absoluteHelper: false,
  sandbox: null,
};

/** A CLI whose docs say nothing git-paw can use: the prompt is typed. */
const GENERIC: CliProfile = {
  name: "generic",
  prompt: { kind: "type" },
  instructions: { kind: "unknown" },
  settings: null,
  mcp: null,
  trust: "none",
  hookEvents: [],
  launchArgs: [],
  resume: null,
  absoluteHelper: false,
  sandbox: null,
};

function typed(
  name: string,
  instructions: Instructions = { kind: "unknown" },
  resume: readonly string[] | null = null,
): CliProfile {
  return { ...GENERIC, name, instructions, resume };
}

const AGENTS: Instructions = { kind: "agents-md" };

/**
 * Every profile by name. Beyond claude, codex and gemini the entries carry
 * what the CLIs' public docs state; where a doc offers a first-prompt flag
 * that only prefills the input box (opencode `--prompt`) or runs one prompt
 * and exits (aider `--message`, qwen/copilot `-p`), the prompt is typed.
 */
export const CLI_PROFILES: Readonly<Record<string, CliProfile>> = {
  claude: CLAUDE,
  codex: CODEX,
  gemini: GEMINI,
  aider: typed("aider"),
  vibe: typed("vibe", AGENTS),
  // qwen code is a fork of gemini CLI; its docs name only `-p` (headless).
  qwen: typed("qwen"),
  amp: typed("amp", AGENTS),
  opencode: typed("opencode", AGENTS, ["--continue"]),
  cline: typed("cline"),
  droid: typed("droid", AGENTS),
  pi: typed("pi"),
  junie: typed("junie"),
  cursor: typed("cursor", AGENTS),
  copilot: typed("copilot", AGENTS),
  cn: typed("cn"),
  kilo: typed("kilo"),
  kimi: typed("kimi"),
  demo: DEMO,
};

/** The program name of an argv[0]: basename, without `.exe`. */
function programName(argv0: string): string {
  return (argv0.split("/").pop() ?? "").replace(/\.exe$/, "");
}

/**
 * The profile of a CLI: by its name when known (`claude`, `demo`), else by
 * the program it runs (a custom `[clis.my-claude]` running `claude`), else
 * {@link GENERIC}.
 *
 * @example
 * ```ts
 * import { profileFor } from "./cli_profiles.ts";
 * profileFor("mine", "/opt/bin/claude").name; // "claude"
 * ```
 */
export function profileFor(cliName: string, argv0: string): CliProfile {
  return (Object.hasOwn(CLI_PROFILES, cliName)
    ? CLI_PROFILES[cliName]
    : undefined) ??
    (Object.hasOwn(CLI_PROFILES, programName(argv0))
      ? CLI_PROFILES[programName(argv0)]
      : undefined) ??
    GENERIC;
}

/** How a CLI receives its first prompt: extra argv, or typed text. */
export type PromptDelivery =
  | { kind: "argv"; args: string[] }
  | { kind: "type" };

/**
 * The argv tail (or typing) that hands `prompt` to a CLI under `profile`,
 * placed after everything the user gave.
 *
 * @example
 * ```ts
 * import { CLI_PROFILES, promptArgs } from "./cli_profiles.ts";
 * promptArgs(CLI_PROFILES.claude!, "hi"); // { kind: "argv", args: ["--", "hi"] }
 * ```
 */
export function promptArgs(
  profile: CliProfile,
  prompt: string,
): PromptDelivery {
  switch (profile.prompt.kind) {
    case "after-separator":
      return { kind: "argv", args: ["--", prompt] };
    case "positional":
      return { kind: "argv", args: [prompt] };
    case "flag":
      return { kind: "argv", args: [profile.prompt.flag, prompt] };
    case "type":
      return { kind: "type" };
  }
}

/** What {@link launchArgv} returns: the argv, and text to type if any. */
export type LaunchArgv = { argv: string[]; typePrompt?: string };

/**
 * The argv that launches a CLI (`base`: the user's argv) with an optional
 * first prompt, optionally resuming its last conversation. A CLI without a
 * resume form starts afresh (the caller sends the boot prompt then).
 */
export function launchArgv(
  profile: CliProfile,
  base: readonly string[],
  opts: { prompt?: string | null; resume?: boolean } = {},
): LaunchArgv {
  const [program, ...rest] = base;
  const argv = program === undefined ? [] : [program];
  if (opts.resume && profile.resume) argv.push(...profile.resume);
  argv.push(...profile.launchArgs.filter((a) => !rest.includes(a)), ...rest);
  if (!opts.prompt) return { argv };
  const d = promptArgs(profile, opts.prompt);
  return d.kind === "argv"
    ? { argv: [...argv, ...d.args] }
    : { argv, typePrompt: opts.prompt };
}

/** True when the profile can resume a conversation. */
export function canResume(profile: CliProfile): boolean {
  return profile.resume !== null;
}

/**
 * The prompt a resumed CLI gets after a crash: it was restarted, its
 * assignment is in AGENTS.md, go on.
 */
export function resumePrompt(agentId: string): string {
  return [
    `git-paw restarted this session after a crash; you are still agent \`${agentId}\`.`,
    "Your assignment is unchanged: the `## git-paw Session Assignment` section of AGENTS.md in this worktree.",
    "Check your inbox with `git paw inbox`, then continue the task where you left off.",
  ].join("\n");
}

/**
 * `text` with every `git paw <subcommand>` recipe run through `helper`
 * instead (a CLI whose shell loses PATH gets the absolute command).
 */
export function withHelper(text: string, helper: string): string {
  return helper === "git paw"
    ? text
    : text.replace(/\bgit paw(?= [a-z-])/g, () => helper);
}

/** The JSON value of a settings file. */
export type Json =
  | null
  | boolean
  | number
  | string
  | Json[]
  | { [key: string]: Json };

/** Inputs for {@link cliFilePlans}. */
export type SettingsContext = {
  /** CLI name passed to `__cli-event --cli`. */
  cliName: string;
  /** The helper command the agent is told to run (`git paw`, or absolute). */
  helperCommand: string;
  /** The argv that runs git-paw (for codex prefix rules). */
  selfArgv?: readonly string[];
  /**
   * The argv that runs git-paw's MCP server in agent mode for this
   * worktree; without it no MCP server is registered.
   */
  mcpArgv?: readonly string[];
  /** The shell command that runs git-paw from a hook (already shell-quoted). */
  selfCommand: string;
  /** Broker URL (`http://127.0.0.1:PORT`), or null when the broker is off. */
  brokerUrl: string | null;
  /**
   * The curl option(s) every recipe carries after `curl -s`: the agent's
   * key file (`-K <file>`), and the bearer token header when the key file
   * cannot carry it.
   */
  authHeader?: string | null;
  /** Absolute worktree path (gemini's `policyPaths` are absolute). */
  worktreePath?: string;
  /** Gemini's user policy folder (`~/.gemini/policies`), kept in `policyPaths`. */
  geminiUserPolicies?: string;
  /**
   * The `permissions.defaultMode` of the user's own Claude settings
   * (`~/.claude/settings.json`), repeated in the worktree's local settings:
   * the same mode, and Claude 2.1 then does not stop a turn with its "Make
   * auto mode your default permission mode?" offer (shown only when the
   * user's settings name a mode and no project or local settings do).
   */
  claudeUserDefaultMode?: string;
  /** Dirs a commit in the worktree writes outside it (codex sandbox). */
  gitWritableRoots?: readonly string[];
  /**
   * The session's approvals (`[approvals]`, mode resolved): in `queue` mode
   * the decision hook (Claude `PreToolUse`, Gemini `BeforeTool`) asks the
   * approval queue and gets a timeout long enough for a person.
   */
  approvals?: { mode: ApprovalsMode; timeoutSeconds: number };
};

/** The curl command prefixes the boot block and AGENTS.md use for `url`. */
function curlPrefixes(url: string, auth: string | null | undefined): string[] {
  const u = url.replace(/\/+$/, "");
  const heads = auth ? ["curl -s", `curl -s ${auth}`] : ["curl -s"];
  return heads.flatMap((h) => [
    `${h} -X POST ${u}/`,
    `${h} ${u}/`,
    `${h} '${u}/`,
  ]);
}

/**
 * git-paw's own commands as Claude permission rules: the `git paw` helper
 * (and the absolute helper command when it differs), and the curl recipes
 * to this session's broker with its port named (a `:*` port pattern does
 * not match in Claude's rules).
 */
export function allowRules(ctx: SettingsContext): string[] {
  const prefixes = ["git paw"];
  if (ctx.helperCommand !== "git paw") prefixes.push(ctx.helperCommand);
  const curls = ctx.brokerUrl
    ? curlPrefixes(ctx.brokerUrl, ctx.authHeader)
    : [];
  return [
    ...prefixes.map((p) => `Bash(${p}:*)`),
    ...curls.map((c) => `Bash(${c}*)`),
  ];
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A TOML basic string (JSON string escapes are valid TOML). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * Gemini policy rules (TOML) for git-paw's own commands: `git paw` (and the
 * absolute helper) by command prefix; curl to this broker's port by a regex
 * anchored on the command and free of shell operators (a prefix ending in
 * `/` never matches in Gemini).
 */
export function geminiPolicy(ctx: SettingsContext): string {
  const rule = (key: string, value: string) =>
    [
      "[[rule]]",
      'toolName = "run_shell_command"',
      `${key} = ${value}`,
      'decision = "allow"',
      "priority = 100",
      "",
    ].join("\n");
  const prefixes = ["git paw"];
  if (ctx.helperCommand !== "git paw") prefixes.push(ctx.helperCommand);
  const out = [
    "# git-paw: its own helper and broker recipes run unasked; removed on teardown.",
    "",
    rule("commandPrefix", `[${prefixes.map(tomlString).join(", ")}]`),
  ];
  if (ctx.brokerUrl) {
    const u = regexEscape(ctx.brokerUrl.replace(/\/+$/, ""));
    // Gemini matches it right after `"command":"` in the call's JSON text:
    // up to the closing quote, no `;`, `&`, `|`, backquote, `$`, `<`, `>`.
    // The recipes' key-file option (`-K <file>`) may come first; an option
    // with quotes or `$` in it would be escaped in the JSON, so is left out.
    // Gemini 0.61 drops a rule whose regex has a quantified group holding
    // a quantifier (its ReDoS check, `(?:` counts): the key is a rule of
    // its own, not an optional group, and the tail's group holds none.
    const tail = `(-X POST )?'?${u}/([^"\\\\;&|\`$<>]|\\\\.)*"`;
    out.push(rule("commandRegex", tomlString(`curl -s ${tail}`)));
    if (ctx.authHeader && !/["$\\]/.test(ctx.authHeader)) {
      const key = regexEscape(ctx.authHeader);
      out.push(rule("commandRegex", tomlString(`curl -s ${key} ${tail}`)));
    }
  }
  return out.join("\n");
}

/**
 * The hook command for one event. It never fails (`|| true`): a state
 * report must not block the CLI (Claude treats exit code 2 of a
 * `PreToolUse` hook as "deny").
 */
function hookCommand(ctx: SettingsContext, event: string): string {
  const extra = approvalHookArgs(
    ctx.approvals?.mode ?? "pane",
    ctx.cliName,
    event,
  );
  return `${ctx.selfCommand} __cli-event --cli ${ctx.cliName} --event ${event}${
    extra.length ? ` ${extra.join(" ")}` : ""
  } || true`;
}

/**
 * A hook command (from {@link hookCommand}) the CLI's shell starts in the
 * background and returns from at once, for a CLI that waits for every hook
 * to finish and close its output (gemini): the event's JSON still reaches
 * it on stdin (fd 3, as a background job's own stdin is `/dev/null`); what
 * it prints goes nowhere (it prints nothing the CLI reads).
 */
export function backgroundHookCommand(command: string): string {
  const cmd = command.replace(/ \|\| true$/, "");
  return `exec 3<&0; { ${cmd} <&3 >/dev/null 2>&1 3<&- & } ; exit 0`;
}

/** One file git-paw puts into a worktree for a CLI. */
export type CliFilePlan =
  /** An instruction file that imports AGENTS.md with `line`. */
  | { kind: "import"; path: string; line: string }
  /** A JSON settings file, merged with the user's. */
  | { kind: "json"; path: string; content: { [key: string]: Json } }
  /** A TOML settings file, merged with the user's. */
  | { kind: "toml"; path: string; content: { [key: string]: Json } }
  /** A file of git-paw's own (its name is git-paw's), written whole. */
  | { kind: "own"; path: string; content: string };

/**
 * The entry that registers git-paw's MCP server (stdio, `argv`) in a CLI's
 * MCP config, pre-allowed the way that CLI knows: gemini `trust: true`
 * (no confirmation for its tools), codex `default_tools_approval_mode =
 * "approve"` (and `env_vars`, {@link CODEX_MCP_ENV}); claude's approval and allow rule live in its settings.
 * Gemini gets the worktree as `cwd`; the others start servers in their own.
 */
function mcpServerEntry(
  format: SettingsFormat,
  argv: readonly string[],
  worktreePath?: string,
): { [key: string]: Json } {
  const [command = "", ...args] = argv;
  switch (format) {
    case "claude":
      return { type: "stdio", command, args };
    case "gemini":
      return {
        command,
        args,
        ...(worktreePath ? { cwd: worktreePath } : {}),
        trust: true,
      };
    case "codex":
      return {
        command,
        args,
        default_tools_approval_mode: "approve",
        env_vars: [...CODEX_MCP_ENV],
      };
  }
}

/**
 * Variables codex hands on to git-paw's MCP server besides its own short
 * list (HOME, PATH, …): where Deno keeps its cache (without them a server
 * run by `deno run` compiles, even downloads, its modules anew in
 * `~/.cache/deno` while codex holds the first prompt) and git-paw's trace.
 */
export const CODEX_MCP_ENV: readonly string[] = [
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "GIT_PAW_TRACE",
];

/** Gemini's policy file name, inside the worktree. */
export const GEMINI_POLICY_FILE = ".gemini/git-paw-policy.toml";

/**
 * The files a profile wants in a worktree: the instruction file importing
 * AGENTS.md, the local settings with the pre-allow rules for git-paw's own
 * commands and the state hooks, and (with `ctx.mcpArgv`) git-paw's MCP
 * server registered and pre-allowed ({@link McpRegistration}). No
 * permission mode or approval policy is set: the user's own permission
 * choices stand.
 */
export function cliFilePlans(
  profile: CliProfile,
  ctx: SettingsContext,
): CliFilePlan[] {
  const out: CliFilePlan[] = [];
  if (profile.instructions.kind === "import") {
    out.push({
      kind: "import",
      path: profile.instructions.file,
      line: profile.instructions.line,
    });
  }
  if (!profile.settings) return out;
  const { file, format } = profile.settings;
  const hooks: { [key: string]: Json } = {};
  for (const event of profile.hookEvents) {
    const handler: { [key: string]: Json } = {
      type: "command",
      command: hookCommand(ctx, event),
    };
    const wait = ctx.approvals
      ? approvalHookTimeout(ctx.approvals, ctx.cliName, event)
      : null;
    if (format === "gemini") {
      handler.name = `git-paw-${event}`;
      handler.timeout = wait ?? 5000;
      if (wait === null && profile.backgroundHooks?.includes(event)) {
        handler.command = backgroundHookCommand(handler.command as string);
      }
      hooks[event] = [{ matcher: "*", hooks: [handler] }];
    } else {
      if (wait !== null) handler.timeout = wait;
      else if (profile.backgroundHooks?.includes(event)) handler.async = true;
      hooks[event] = [{ hooks: [handler] }];
    }
  }
  const withHooks = (c: { [key: string]: Json }) =>
    profile.hookEvents.length ? { ...c, hooks } : c;
  const mcp = profile.mcp && ctx.mcpArgv?.length
    ? mcpServerEntry(profile.mcp.format, ctx.mcpArgv, ctx.worktreePath)
    : null;
  // Gemini and codex read MCP servers from their settings file: one plan.
  const withMcp = (c: { [key: string]: Json }, key: string) =>
    mcp && profile.mcp?.file === file
      ? { ...c, [key]: { [MCP_SERVER_NAME]: mcp } }
      : c;
  switch (format) {
    case "claude": {
      const mode = ctx.claudeUserDefaultMode;
      const content: { [key: string]: Json } = {
        permissions: {
          allow: [
            ...allowRules(ctx),
            ...(mcp ? [`mcp__${MCP_SERVER_NAME}__*`] : []),
          ],
          ...(mode && mode !== "auto" ? { defaultMode: mode } : {}),
        },
      };
      // A server of `.mcp.json` runs only once approved; this approves it.
      if (mcp) content.enabledMcpjsonServers = [MCP_SERVER_NAME];
      out.push({ kind: "json", path: file, content: withHooks(content) });
      if (mcp && profile.mcp) {
        out.push({
          kind: "json",
          path: profile.mcp.file,
          content: { mcpServers: { [MCP_SERVER_NAME]: mcp } },
        });
      }
      break;
    }
    case "gemini": {
      const policies = [`${ctx.worktreePath ?? "."}/${GEMINI_POLICY_FILE}`];
      if (ctx.geminiUserPolicies) policies.push(ctx.geminiUserPolicies);
      out.push({
        kind: "own",
        path: GEMINI_POLICY_FILE,
        content: geminiPolicy(ctx),
      });
      out.push({
        kind: "json",
        path: file,
        content: withMcp(
          withHooks({ policyPaths: policies }),
          "mcpServers",
        ),
      });
      break;
    }
    case "codex": {
      const prefixes: string[][] = [["git", "paw"]];
      if (ctx.helperCommand !== "git paw" && ctx.selfArgv?.length) {
        prefixes.push([...ctx.selfArgv]);
      }
      out.push({
        kind: "own",
        path: ".codex/rules/git-paw.rules",
        content: prefixes.map((p) =>
          `prefix_rule(pattern = ${
            JSON.stringify(p)
          }, decision = "allow", justification = "git-paw's own helper")`
        ).join("\n") + "\n",
      });
      out.push({
        kind: "toml",
        path: file,
        content: withMcp({
          // `bash -c`, not `bash -lc`: a login shell's /etc/profile resets PATH.
          allow_login_shell: false,
          sandbox_workspace_write: {
            network_access: true,
            writable_roots: [...ctx.gitWritableRoots ?? []],
          },
        }, "mcp_servers"),
      });
      break;
    }
  }
  return out;
}

/** One row of `list-clis --json` `supports`. */
export type ProfileSummary = {
  profile: string;
  prompt: PromptPassing["kind"];
  instructions: string;
  settings_file: string | null;
  mcp_file: string | null;
  trust: TrustHandling;
  hooks: string[];
  resume: string[] | null;
  absolute_helper: boolean;
  sandbox: string | null;
};

/** What a profile supports, for `list-clis --json`. */
export function profileSummary(p: CliProfile): ProfileSummary {
  return {
    profile: p.name,
    prompt: p.prompt.kind,
    instructions: p.instructions.kind === "import"
      ? p.instructions.file
      : p.instructions.kind === "agents-md"
      ? "AGENTS.md"
      : "unknown",
    settings_file: p.settings?.file ?? null,
    mcp_file: p.mcp?.file ?? null,
    trust: p.trust,
    hooks: [...p.hookEvents],
    resume: p.resume ? [...p.resume] : null,
    absolute_helper: p.absoluteHelper,
    sandbox: p.sandbox,
  };
}
