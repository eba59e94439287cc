import assert from "node:assert/strict";
import {
  allowRules,
  CLI_PROFILES,
  launchArgv,
  profileFor,
  promptArgs,
  resumePrompt,
  settingsFor,
  withHelper,
} from "../../lib/core/cli_profiles.ts";
import { KNOWN_CLIS } from "../../lib/session/clis.ts";

const claude = CLI_PROFILES.claude!;
const ctx = {
  cliName: "claude",
  helperCommand: "git paw",
  selfCommand: "/usr/bin/deno run -A /src/main.ts",
  brokerUrl: "http://127.0.0.1:9119",
};

Deno.test("CLI_PROFILES has an entry for every known CLI and demo", () => {
  for (const name of [...KNOWN_CLIS, "demo"]) {
    assert.equal(CLI_PROFILES[name]?.name, name, name);
  }
});

Deno.test("promptArgs() follows each CLI's own way to take a first prompt", () => {
  assert.deepEqual(promptArgs(claude, "P"), {
    kind: "argv",
    args: ["--", "P"],
  });
  assert.deepEqual(promptArgs(CLI_PROFILES.gemini!, "P"), {
    kind: "argv",
    args: ["-i", "P"],
  });
  assert.deepEqual(promptArgs(CLI_PROFILES.codex!, "P"), {
    kind: "argv",
    args: ["P"],
  });
  assert.deepEqual(promptArgs(CLI_PROFILES.demo!, "P"), {
    kind: "argv",
    args: ["P"],
  });
  assert.deepEqual(promptArgs(CLI_PROFILES.aider!, "P"), { kind: "type" });
});

Deno.test("launchArgv() puts the prompt after a variadic user option behind --", () => {
  const base = ["/bin/claude", "--allowedTools", "Bash(git paw:*)"];
  assert.deepEqual(launchArgv(claude, base, { prompt: "boot" }).argv, [
    "/bin/claude",
    "--allowedTools",
    "Bash(git paw:*)",
    "--",
    "boot",
  ]);
  assert.deepEqual(launchArgv(claude, base).argv, base);
});

Deno.test("launchArgv() resumes with each profile's resume argv", () => {
  assert.deepEqual(
    launchArgv(claude, ["claude", "--model", "x"], {
      prompt: "R",
      resume: true,
    }).argv,
    ["claude", "--model", "x", "--continue", "--", "R"],
  );
  assert.deepEqual(
    launchArgv(CLI_PROFILES.codex!, ["codex"], { prompt: "R", resume: true })
      .argv,
    ["codex", "resume", "--last", "R"],
  );
  assert.deepEqual(
    launchArgv(CLI_PROFILES.gemini!, ["gemini"], { prompt: "R", resume: true })
      .argv,
    ["gemini", "--resume", "latest", "-i", "R"],
  );
  // No resume form: a fresh start, the prompt typed.
  assert.deepEqual(
    launchArgv(CLI_PROFILES.aider!, ["aider"], { prompt: "R", resume: true }),
    { argv: ["aider"], typePrompt: "R" },
  );
});

Deno.test("profileFor() picks by name, then by program, else generic", () => {
  assert.equal(profileFor("claude", "/x/y").name, "claude");
  assert.equal(profileFor("my-claude", "/opt/claude").name, "claude");
  assert.equal(profileFor("toString", "/x/whatever").name, "generic");
  assert.equal(profileFor("foo", "/x/foo").prompt.kind, "type");
});

Deno.test("resumePrompt() names the agent and where its assignment is", () => {
  const p = resumePrompt("feat-a");
  assert.match(p, /restarted/);
  assert.match(p, /`feat-a`/);
  assert.match(p, /## git-paw Session Assignment/);
  assert.match(p, /AGENTS\.md/);
});

Deno.test("allowRules() names the broker's port and nothing wider", () => {
  const rules = allowRules("claude", ctx);
  assert.ok(rules.includes("Bash(git paw:*)"));
  assert.ok(rules.includes("Bash(curl -s http://127.0.0.1:9119/*)"));
  assert.ok(rules.includes("Bash(curl -s -X POST http://127.0.0.1:9119/*)"));
  assert.ok(rules.every((r) => !r.includes(":*)") || r === "Bash(git paw:*)"));
  assert.ok(rules.every((r) => !/\*.* /.test(r)), "no middle wildcard");
  assert.deepEqual(allowRules("claude", { ...ctx, brokerUrl: null }), [
    "Bash(git paw:*)",
  ]);
  const abs = allowRules("claude", {
    ...ctx,
    brokerUrl: null,
    helperCommand: "/bin/git-paw",
  });
  assert.deepEqual(abs, ["Bash(git paw:*)", "Bash(/bin/git-paw:*)"]);
  assert.ok(
    allowRules("gemini", ctx).includes("run_shell_command(git paw)"),
  );
});

Deno.test("settingsFor() claude: allow rules and __cli-event hooks, no permission mode", () => {
  const s = settingsFor(claude, ctx)!;
  assert.equal(s.file, ".claude/settings.local.json");
  const perms = s.content.permissions as Record<string, unknown>;
  assert.equal(perms.defaultMode, undefined);
  const hooks = s.content.hooks as Record<string, unknown>;
  assert.deepEqual(Object.keys(hooks).sort(), [
    "Notification",
    "PostToolUse",
    "PreToolUse",
    "Stop",
    "UserPromptSubmit",
  ]);
  assert.deepEqual(hooks.Stop, [{
    hooks: [{
      type: "command",
      command:
        "/usr/bin/deno run -A /src/main.ts __cli-event --cli claude --event Stop || true",
    }],
  }]);
  assert.equal(settingsFor(CLI_PROFILES.codex!, ctx), null);
});

Deno.test("withHelper() swaps git paw recipes for the absolute command", () => {
  assert.equal(
    withHelper("run git paw publish x; git paw inbox", "'/a b/git-paw'"),
    "run '/a b/git-paw' publish x; '/a b/git-paw' inbox",
  );
  assert.equal(withHelper("git paw inbox", "git paw"), "git paw inbox");
});
