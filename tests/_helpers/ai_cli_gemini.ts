/**
 * A temporary HOME for the real Gemini CLI 0.61 as a returning user has it
 * (API-key auth chosen, theme picked, no tips / banner / update nags, usage
 * statistics and telemetry off, the given folders trusted), pointed at the
 * mock model; and the worktree-local `.gemini/settings.json` that
 * pre-allows shell commands and installs state hooks.
 * Facts behind each key: `docs/clis/gemini.md`.
 * @module
 */
import { join } from "node:path";

/** What {@link seedGeminiHome} needs. */
export type GeminiHomeOptions = {
  /** Mock model base URL (`GOOGLE_GEMINI_BASE_URL`), e.g. `http://127.0.0.1:4321`. */
  baseUrl: string;
  /** Folders written to `trustedFolders.json` as `TRUST_FOLDER`. */
  trusted?: string[];
  /** Extra keys merged (shallowly, per top-level section) into the user settings. */
  settings?: Record<string, Record<string, unknown>>;
  /** Model name passed to the API (default `gemini-2.5-flash`). */
  model?: string;
};

/** The env and files of a seeded HOME. */
export type GeminiHome = {
  home: string;
  /** Env to launch `gemini` with (merge over a minimal base env). */
  env: Record<string, string>;
  settingsPath: string;
  trustedFoldersPath: string;
};

/** User settings of a returning user with nothing left to ask. */
export function geminiUserSettings(
  opts: Pick<GeminiHomeOptions, "settings" | "model">,
): Record<string, Record<string, unknown>> {
  const base: Record<string, Record<string, unknown>> = {
    general: {
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      enableNotifications: false,
      sessionRetention: { enabled: true, maxAge: "30d" },
    },
    security: {
      auth: { selectedType: "gemini-api-key" },
      folderTrust: { enabled: true },
    },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false, logPrompts: false },
    ui: {
      theme: "Default",
      hideTips: true,
      hideBanner: true,
      showShortcutsHint: false,
      showHomeDirectoryWarning: false,
      showCompatibilityWarnings: false,
      dynamicWindowTitle: false,
    },
    ide: { enabled: false, hasSeenNudge: true },
    model: { name: opts.model ?? "gemini-2.5-flash" },
  };
  for (const [k, v] of Object.entries(opts.settings ?? {})) {
    base[k] = { ...(base[k] ?? {}), ...v };
  }
  return base;
}

/** Env for `gemini` against the mock with a seeded HOME. */
export function geminiEnv(
  home: string,
  baseUrl: string,
): Record<string, string> {
  return {
    HOME: home,
    GEMINI_API_KEY: "mock-gemini-key",
    GOOGLE_GEMINI_BASE_URL: baseUrl,
    // CI=true or GITHUB_ACTIONS=true makes 0.61 headless even in a TTY.
    CI: "false",
    GITHUB_ACTIONS: "false",
    NO_BROWSER: "true",
    TERM: "xterm-256color",
    COLORTERM: "truecolor",
  };
}

/** Create `home/.gemini/{settings,trustedFolders}.json`; returns the env. */
export async function seedGeminiHome(
  home: string,
  opts: GeminiHomeOptions,
): Promise<GeminiHome> {
  const dir = join(home, ".gemini");
  await Deno.mkdir(dir, { recursive: true });
  const settingsPath = join(dir, "settings.json");
  const trustedFoldersPath = join(dir, "trustedFolders.json");
  await Deno.writeTextFile(
    settingsPath,
    JSON.stringify(geminiUserSettings(opts), null, 2) + "\n",
  );
  const trusted: Record<string, string> = {};
  for (const p of opts.trusted ?? []) trusted[p] = "TRUST_FOLDER";
  await Deno.writeTextFile(
    trustedFoldersPath,
    JSON.stringify(trusted, null, 2) + "\n",
  );
  return {
    home,
    env: geminiEnv(home, opts.baseUrl),
    settingsPath,
    trustedFoldersPath,
  };
}

/** Add folders to an existing `trustedFolders.json` (e.g. a new worktree). */
export async function trustGeminiFolders(
  trustedFoldersPath: string,
  folders: string[],
): Promise<void> {
  let cur: Record<string, string> = {};
  try {
    cur = JSON.parse(await Deno.readTextFile(trustedFoldersPath));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const f of folders) cur[f] = "TRUST_FOLDER";
  await Deno.writeTextFile(
    trustedFoldersPath,
    JSON.stringify(cur, null, 2) + "\n",
  );
}

/** What {@link writeGeminiWorkspaceSettings} writes. */
export type GeminiWorkspaceOptions = {
  /**
   * Shell command prefixes run without asking, whole words only
   * (`"git paw"` allows `git paw status`, not `git pawx`).
   */
  allowCommands?: string[];
  /**
   * Regexes for whole shell commands run without asking (e.g. `curl` to the
   * loopback broker: `curl -s http://127\\.0\\.0\\.1:9119/[^ ]*`).
   */
  allowCommandRegexes?: string[];
  /**
   * More policy files or folders to load. Setting `policyPaths` at all makes
   * 0.61 skip the user's default `~/.gemini/policies`, so pass that folder
   * here to keep the user's own rules.
   */
  extraPolicyPaths?: string[];
  /** Instruction files read from the worktree, in order (`context.fileName`). */
  contextFiles?: string[];
  /**
   * Hook command per event (`BeforeTool`, `AfterTool`, `BeforeAgent`,
   * `AfterAgent`, `Notification`, `SessionStart`, `SessionEnd`, …). Each runs
   * through `bash -c` with the event's JSON on stdin.
   */
  hooks?: Record<string, string>;
};

/** Name of the policy file written beside the worktree settings. */
export const GEMINI_POLICY_FILE = "git-paw-policy.toml";

/**
 * A policy-engine file allowing exactly the given commands. Unlike the
 * deprecated `tools.allowed`, which denies every other shell command once it
 * names one, a policy rule leaves the rest at the default (ask).
 */
export function geminiPolicyToml(
  opts: Pick<GeminiWorkspaceOptions, "allowCommands" | "allowCommandRegexes">,
): string {
  const rules: string[] = [];
  if (opts.allowCommands?.length) {
    rules.push(
      [
        "[[rule]]",
        'toolName = "run_shell_command"',
        `commandPrefix = [${
          opts.allowCommands.map((c) => JSON.stringify(c)).join(", ")
        }]`,
        'decision = "allow"',
        "priority = 100",
      ].join("\n"),
    );
  }
  for (const re of opts.allowCommandRegexes ?? []) {
    rules.push(
      [
        "[[rule]]",
        'toolName = "run_shell_command"',
        `commandRegex = ${JSON.stringify(re)}`,
        'decision = "allow"',
        "priority = 100",
      ].join("\n"),
    );
  }
  return rules.join("\n\n") + "\n";
}

/**
 * The worktree-local settings object (`<worktree>/.gemini/settings.json`);
 * `policyFile` is the absolute path of the policy file it loads.
 */
export function geminiWorkspaceSettings(
  opts: GeminiWorkspaceOptions,
  policyFile?: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const policyPaths = [
    ...(policyFile ? [policyFile] : []),
    ...(opts.extraPolicyPaths ?? []),
  ];
  if (policyPaths.length) out.policyPaths = policyPaths;
  if (opts.contextFiles?.length) {
    out.context = { fileName: opts.contextFiles };
  }
  if (opts.hooks && Object.keys(opts.hooks).length) {
    const hooks: Record<string, unknown> = {};
    for (const [event, command] of Object.entries(opts.hooks)) {
      hooks[event] = [{
        matcher: "*",
        hooks: [{
          type: "command",
          command,
          name: `git-paw-${event}`,
          timeout: 5000,
        }],
      }];
    }
    out.hooks = hooks;
  }
  return out;
}

/**
 * Write `<worktree>/.gemini/settings.json` (and the policy file it names
 * when commands are allowed); returns the settings path.
 */
export async function writeGeminiWorkspaceSettings(
  worktree: string,
  opts: GeminiWorkspaceOptions,
): Promise<string> {
  const dir = join(worktree, ".gemini");
  await Deno.mkdir(dir, { recursive: true });
  let policyFile: string | undefined;
  if (opts.allowCommands?.length || opts.allowCommandRegexes?.length) {
    policyFile = join(dir, GEMINI_POLICY_FILE);
    await Deno.writeTextFile(policyFile, geminiPolicyToml(opts));
  }
  const path = join(dir, "settings.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify(geminiWorkspaceSettings(opts, policyFile), null, 2) + "\n",
  );
  return path;
}
