/**
 * Home and worktree setup for driving the real Codex CLI 0.169 unattended
 * against the mock model (`tests/fixtures/mock_model/codex.ts`).
 *
 * - {@link seedCodexHome} makes a temporary HOME look like a returning
 *   user's: a custom `mock` model provider whose key comes from an env var
 *   (no login screen), the given repos trusted (no "Trust this folder?"),
 *   the model-upgrade notice already seen, update checks, analytics and the
 *   shared app-server daemon off.
 * - {@link writeCodexWorktreeSettings} writes the worktree-local
 *   `.codex/config.toml` and `.codex/rules/*.rules` that let `git paw …`
 *   and `curl` to the loopback broker run with no key pressed, keep the
 *   pane's PATH (no login shell) and let commits reach a linked worktree's
 *   git dir.
 * - {@link writeCodexHooks} installs command hooks (in `$CODEX_HOME`, the
 *   only layer where they fired for a linked worktree in 0.169).
 *
 * Launch the CLI with {@link CODEX_UNATTENDED_ARGS} (`--no-daemon`, and the
 * hook-trust bypass) then `--` and the first prompt.
 * @module
 */
import { join } from "node:path";

/** Arguments every unattended launch needs (before `--` and the prompt). */
export const CODEX_UNATTENDED_ARGS: readonly string[] = [
  "--no-daemon",
  "--dangerously-bypass-hook-trust",
];

/** Env var the seeded provider reads its API key from. */
export const CODEX_MOCK_KEY_ENV = "GIT_PAW_MOCK_OPENAI_KEY";

/** Hook events Codex 0.169 runs (names as in `hooks.json`). */
export const CODEX_HOOK_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PermissionRequest",
  "PostToolUse",
  "Stop",
] as const;

/** Options for {@link seedCodexHome}. */
export type SeedCodexHomeOptions = {
  /** Base URL of the mock model server (`http://127.0.0.1:PORT`). */
  mockUrl: string;
  /** Repos (main checkouts) to mark trusted. */
  trustedRepos?: string[];
  /** argv run with the turn-complete JSON appended (`notify`). */
  notify?: string[];
  /** Model name shown in the footer. */
  model?: string;
};

function tomlString(s: string): string {
  return JSON.stringify(s);
}

function tomlArray(items: readonly string[]): string {
  return `[${items.map(tomlString).join(", ")}]`;
}

/**
 * Seed `<home>/.codex` (and a git identity in `<home>/.gitconfig`); returns
 * the env to run `codex` with.
 */
export async function seedCodexHome(
  home: string,
  opts: SeedCodexHomeOptions,
): Promise<Record<string, string>> {
  const codexHome = join(home, ".codex");
  await Deno.mkdir(codexHome, { recursive: true });
  const model = opts.model ?? "gpt-5.5";
  const lines = [
    `model = ${tomlString(model)}`,
    `model_provider = "mock"`,
    `check_for_update_on_startup = false`,
  ];
  if (opts.notify) lines.push(`notify = ${tomlArray(opts.notify)}`);
  lines.push(
    "",
    "[analytics]",
    "enabled = false",
    "",
    "[features]",
    "# no shared `codex app-server` daemon (it would run every pane's",
    "# commands with the env of the pane that started it)",
    "daemon_auto_start = false",
    "",
    "[tui]",
    "screen_reader_detection_done = true",
    "",
    "[tui.model_availability_nux]",
    `"gpt-6.1-sol" = 1`,
    "",
    "[notice.model_migrations]",
    `${tomlString(model)} = "gpt-6-sol"`,
    "",
    "[model_providers.mock]",
    `name = "Mock"`,
    `base_url = ${tomlString(opts.mockUrl + "/v1")}`,
    `env_key = ${tomlString(CODEX_MOCK_KEY_ENV)}`,
    `wire_api = "responses"`,
  );
  for (const repo of opts.trustedRepos ?? []) {
    lines.push("", `[projects.${tomlString(repo)}]`, `trust_level = "trusted"`);
  }
  await Deno.writeTextFile(
    join(codexHome, "config.toml"),
    lines.join("\n") + "\n",
  );
  await Deno.writeTextFile(
    join(home, ".gitconfig"),
    "[user]\n\tname = Codex Test\n\temail = codex@example.test\n",
  );
  return {
    HOME: home,
    CODEX_HOME: codexHome,
    [CODEX_MOCK_KEY_ENV]: "sk-mock-codex",
    TERM: "xterm-256color",
  };
}

/** Options for {@link writeCodexWorktreeSettings}. */
export type CodexWorktreeOptions = {
  /** Command prefixes (argv tokens) that run with no prompt. */
  allowPrefixes?: string[][];
  /** Extra writable roots (absolute). */
  writableRoots?: string[];
};

async function gitRevParse(cwd: string, flag: string): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["rev-parse", "--path-format=absolute", flag],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot read ${flag} of ${cwd}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * The dirs a commit in `worktree` writes outside it: the worktree's own git
 * dir and the common dir's `objects`, `refs` and `logs`. Listing the common
 * dir itself is not enough: Codex keeps every `.git` read-only inside a
 * writable root.
 */
export async function codexGitWritableRoots(
  worktree: string,
): Promise<string[]> {
  const gitDir = await gitRevParse(worktree, "--git-dir");
  const common = await gitRevParse(worktree, "--git-common-dir");
  const roots = [gitDir];
  for (const sub of ["objects", "refs", "logs"]) {
    const p = join(common, sub);
    if (!roots.includes(p)) roots.push(p);
  }
  return roots;
}

/** The default allowlist: `git paw …` and `curl` (to the loopback broker). */
export const CODEX_DEFAULT_ALLOW: string[][] = [["git", "paw"], ["curl"]];

/**
 * Write `<worktree>/.codex/config.toml` and `<worktree>/.codex/rules/
 * git-paw.rules`. Codex merges this project layer over the user's
 * `$CODEX_HOME/config.toml` (the project layer wins for the keys it sets;
 * `notify` is ignored there).
 */
export async function writeCodexWorktreeSettings(
  worktree: string,
  opts: CodexWorktreeOptions = {},
): Promise<void> {
  const dir = join(worktree, ".codex");
  await Deno.mkdir(join(dir, "rules"), { recursive: true });
  const roots = [
    ...(await codexGitWritableRoots(worktree)),
    ...(opts.writableRoots ?? []),
  ];
  const config = [
    `approval_policy = "on-request"`,
    `sandbox_mode = "workspace-write"`,
    "# run commands with `bash -c`, not `bash -lc`: /etc/profile resets PATH",
    `allow_login_shell = false`,
    "",
    "[sandbox_workspace_write]",
    "network_access = true",
    `writable_roots = ${tomlArray(roots)}`,
    "",
  ].join("\n");
  await Deno.writeTextFile(join(dir, "config.toml"), config);
  const rules = (opts.allowPrefixes ?? CODEX_DEFAULT_ALLOW).map((p) =>
    `prefix_rule(pattern = ${
      JSON.stringify(p)
    }, decision = "allow", justification = "git-paw")`
  );
  await Deno.writeTextFile(
    join(dir, "rules", "git-paw.rules"),
    rules.join("\n") + "\n",
  );
}

/**
 * Install `command` (a shell command line; the event name is appended as
 * its last word) for every event in {@link CODEX_HOOK_EVENTS}, in
 * `<codexHome>/hooks.json`. The hook gets the event JSON on stdin. Hooks
 * run only when trusted: launch with `--dangerously-bypass-hook-trust` or
 * answer the "Hooks need review" dialog.
 */
export async function writeCodexHooks(
  codexHome: string,
  command: string,
): Promise<void> {
  const hooks: Record<string, unknown[]> = {};
  for (const ev of CODEX_HOOK_EVENTS) {
    hooks[ev] = [{ hooks: [{ type: "command", command: `${command} ${ev}` }] }];
  }
  await Deno.writeTextFile(
    join(codexHome, "hooks.json"),
    JSON.stringify({ hooks }, null, 2) + "\n",
  );
}

/**
 * Stop a shared app-server daemon running under `codexHome` (one started by
 * a `codex` launched without `--no-daemon`), and its updater loop, which
 * `daemon stop` leaves running. A home with no daemon is left as it is.
 */
export async function stopCodexDaemon(
  codex: string,
  codexHome: string,
): Promise<void> {
  const dir = join(codexHome, "app-server-daemon");
  const running = await Deno.stat(join(dir, "daemon.pid")).then(
    () => true,
    () => false,
  );
  if (running) {
    await new Deno.Command(codex, {
      args: ["app-server", "daemon", "stop"],
      env: { CODEX_HOME: codexHome },
      stdout: "null",
      stderr: "null",
    }).output();
  }
  const updater = await Deno.readTextFile(join(dir, "daemon-updater.pid"))
    .catch(() => "");
  const pid = updater ? Number(JSON.parse(updater).pid) : 0;
  // the pid file outlives the process: kill only a live updater loop
  const cmdline = pid > 0
    ? await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "")
    : "";
  if (cmdline.includes("pid-update-loop")) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}
