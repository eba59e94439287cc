/**
 * Claude Code 2.1 test seeding: a temporary HOME that looks like a returning
 * user's (onboarding done, API key accepted, theme chosen, release notes
 * seen, chosen folders trusted), pointed at a mock Anthropic API with
 * telemetry and update checks off; and the worktree-local settings file
 * (`.claude/settings.local.json`) that pre-allows command patterns and
 * installs state hooks. Facts behind each key: docs/clis/claude.md.
 * @module
 */
import { join } from "node:path";

/** The Claude Code version these seeds were verified against. */
export const CLAUDE_VERSION = "2.1.328";

/** An API key of the right shape; only its last 20 chars are stored. */
export const MOCK_API_KEY = "sk-ant-api03-mock-" + "k".repeat(60) +
  "-GITPAWMOCKKEY0000001AA";

/** What {@link seedClaudeHome} needs. */
export type ClaudeHomeOptions = {
  /** The temporary HOME to fill (created if missing). */
  home: string;
  /** Base URL of the mock Anthropic API (`http://127.0.0.1:PORT`). */
  baseUrl: string;
  /** Folders to mark trusted (absolute, as the CLI sees them). */
  trusted?: string[];
  apiKey?: string;
  /**
   * Where the CLI keeps its scratch files and its per-process socket
   * (`CLAUDE_CODE_TMPDIR`, `XDG_RUNTIME_DIR`); default `<home>/.tmp`. Keep
   * the path short: the socket path must fit in 103 bytes.
   */
  tmpDir?: string;
  /**
   * `messageIdleNotifThresholdMs`: how long the prompt sits idle before the
   * `Notification` hook gets `idle_prompt` (the CLI's default: 60000).
   */
  idleNotifyMs?: number;
  /** Extra keys for `~/.claude/settings.json` (user settings). */
  userSettings?: Record<string, unknown>;
};

/** The environment to run `claude` with, after seeding. */
export type ClaudeEnv = Record<string, string>;

/**
 * Fill `home` like a returning user's and return the env to run the CLI with
 * (HOME, base URL, key, telemetry/update/non-essential traffic off).
 */
export async function seedClaudeHome(
  opts: ClaudeHomeOptions,
): Promise<ClaudeEnv> {
  const apiKey = opts.apiKey ?? MOCK_API_KEY;
  await Deno.mkdir(join(opts.home, ".claude"), { recursive: true });
  const projects: Record<string, unknown> = {};
  for (const dir of opts.trusted ?? []) {
    projects[dir] = {
      allowedTools: [],
      hasTrustDialogAccepted: true,
      hasCompletedProjectOnboarding: true,
      projectOnboardingSeenCount: 1,
      hasClaudeMdExternalIncludesApproved: true,
      hasClaudeMdExternalIncludesWarningShown: true,
    };
  }
  const config = {
    numStartups: 5,
    installMethod: "npm-local",
    autoUpdates: false,
    theme: "dark",
    hasCompletedOnboarding: true,
    lastOnboardingVersion: CLAUDE_VERSION,
    lastReleaseNotesSeen: CLAUDE_VERSION,
    hasSeenTasksHint: true,
    hasSeenAutoDefaultNotice: true,
    hasSeenAutoModeEntryWarning: true,
    hasResetAutoModeOptInForDefaultOffer: true,
    lastClawdEntranceVersion: CLAUDE_VERSION,
    opusProMigrationComplete: true,
    officialMarketplaceAutoInstallAttempted: true,
    officialMarketplaceAutoInstalled: false,
    hasAcknowledgedCostThreshold: true,
    bypassPermissionsModeAccepted: false,
    ...(opts.idleNotifyMs !== undefined
      ? { messageIdleNotifThresholdMs: opts.idleNotifyMs }
      : {}),
    customApiKeyResponses: { approved: [apiKey.slice(-20)], rejected: [] },
    projects,
  };
  await Deno.writeTextFile(
    join(opts.home, ".claude.json"),
    JSON.stringify(config, null, 2) + "\n",
  );
  await Deno.writeTextFile(
    join(opts.home, ".claude", "settings.json"),
    JSON.stringify(opts.userSettings ?? {}, null, 2) + "\n",
  );
  const tmpDir = opts.tmpDir ?? join(opts.home, ".tmp");
  await Deno.mkdir(tmpDir, { recursive: true, mode: 0o700 });
  return {
    HOME: opts.home,
    CLAUDE_CODE_TMPDIR: tmpDir,
    XDG_RUNTIME_DIR: tmpDir,
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_API_KEY: apiKey,
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    TERM: "xterm-256color",
  };
}

/**
 * A state hook: on `event` Claude Code runs `command` through its shell
 * (`sh -c`-style: quote paths), with the event's JSON on stdin.
 */
export type ClaudeHook = {
  /** Hook event, e.g. `Notification`, `Stop`, `PreToolUse`, `UserPromptSubmit`. */
  event: string;
  /** Matcher (tool name pattern, or notification type); omitted = all. */
  matcher?: string;
  /** The command line Claude Code runs through its shell. */
  command: string;
  timeoutSeconds?: number;
};

/** What {@link writeClaudeWorktreeSettings} writes. */
export type ClaudeWorktreeSettings = {
  /** Permission rules to pre-allow, e.g. `Bash(git paw:*)`. */
  allow?: string[];
  /** Permission rules that always ask. */
  ask?: string[];
  /**
   * `permissions.defaultMode`; 2.1.328 defaults to `auto` (a classifier
   * approves "low-risk" commands unasked), so git-paw wants `default`.
   */
  defaultMode?: string;
  hooks?: ClaudeHook[];
};

/** The `settings.local.json` object for given rules and hooks. */
export function claudeSettingsObject(
  s: ClaudeWorktreeSettings,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    permissions: {
      allow: s.allow ?? [],
      ...(s.ask ? { ask: s.ask } : {}),
      defaultMode: s.defaultMode ?? "default",
    },
  };
  if (s.hooks?.length) {
    const hooks: Record<string, unknown[]> = {};
    for (const h of s.hooks) {
      (hooks[h.event] ??= []).push({
        ...(h.matcher !== undefined ? { matcher: h.matcher } : {}),
        hooks: [{
          type: "command",
          command: h.command,
          ...(h.timeoutSeconds ? { timeout: h.timeoutSeconds } : {}),
        }],
      });
    }
    out.hooks = hooks;
  }
  return out;
}

/**
 * Write `<worktree>/.claude/settings.local.json` (merged by Claude Code with
 * the user's and the project's settings) and return its path.
 */
export async function writeClaudeWorktreeSettings(
  worktree: string,
  s: ClaudeWorktreeSettings,
): Promise<string> {
  const dir = join(worktree, ".claude");
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "settings.local.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify(claudeSettingsObject(s), null, 2) + "\n",
  );
  return path;
}
