import assert from "node:assert/strict";
import {
  allowRules,
  backgroundHookCommand,
  CLI_PROFILES,
  cliFilePlans,
  geminiPolicy,
  launchArgv,
  profileFor,
  promptArgs,
  resumePrompt,
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
    args: ["--", "P"],
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
    ["claude", "--continue", "--model", "x", "--", "R"],
  );
  assert.deepEqual(
    launchArgv(CLI_PROFILES.codex!, ["codex", "-m", "o"], {
      prompt: "R",
      resume: true,
    }).argv,
    ["codex", "resume", "--last", "--no-daemon", "-m", "o", "--", "R"],
  );
  assert.deepEqual(
    launchArgv(CLI_PROFILES.codex!, ["codex", "--no-daemon"], { prompt: "B" })
      .argv,
    ["codex", "--no-daemon", "--", "B"],
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
  const rules = allowRules(ctx);
  assert.ok(rules.includes("Bash(git paw:*)"));
  assert.ok(rules.includes("Bash(curl -s http://127.0.0.1:9119/*)"));
  assert.ok(rules.includes("Bash(curl -s -X POST http://127.0.0.1:9119/*)"));
  assert.ok(rules.every((r) => !r.includes(":*)") || r === "Bash(git paw:*)"));
  assert.ok(rules.every((r) => !/\*.* /.test(r)), "no middle wildcard");
  assert.deepEqual(allowRules({ ...ctx, brokerUrl: null }), [
    "Bash(git paw:*)",
  ]);
  const abs = allowRules({
    ...ctx,
    brokerUrl: null,
    helperCommand: "/bin/git-paw",
  });
  assert.deepEqual(abs, ["Bash(git paw:*)", "Bash(/bin/git-paw:*)"]);
});

/**
 * Gemini CLI 0.61's check on a policy regex (packages/core/src/policy/
 * utils.ts `isSafeRegExp`): a rule failing it is dropped with "Unsafe regex
 * pattern (potential ReDoS)".
 */
function geminiAcceptsRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
  } catch {
    return false;
  }
  return pattern.length <= 2048 && !/\([^)]*[*+?{].*\)[*+?{]/.test(pattern);
}

/** Every commandRegex of a policy, as gemini matches it. */
function policyRegexes(toml: string): RegExp[] {
  return [...toml.matchAll(/commandRegex = (".*")/g)].map((m) => {
    const pattern = JSON.parse(m[1]!) as string;
    assert.ok(geminiAcceptsRegex(pattern), `gemini drops: ${pattern}`);
    return new RegExp('"command":"' + pattern);
  });
}

Deno.test("geminiPolicy() allows git paw by prefix and curl to this port only, in regexes gemini accepts", () => {
  const toml = geminiPolicy(ctx);
  assert.match(toml, /commandPrefix = \["git paw"\]/);
  const res = policyRegexes(toml);
  assert.equal(res.length, 1, toml);
  const cmd = (c: string) => JSON.stringify({ command: c });
  const allowed = (list: RegExp[], c: string) =>
    list.some((re) => re.test(cmd(c)));
  assert.ok(allowed(res, "curl -s http://127.0.0.1:9119/status"));
  assert.ok(allowed(
    res,
    `curl -s -X POST http://127.0.0.1:9119/publish -H 'Content-Type: application/json' -d '{"type":"x"}'`,
  ));
  assert.ok(!allowed(res, "curl -s http://127.0.0.1:91190/status"));
  assert.ok(!allowed(res, "curl -s http://127.0.0.1:9119@evil.com/"));
  assert.ok(!allowed(res, "curl -s http://127.0.0.1:9119/x; rm -rf ~"));
  assert.ok(!allowed(res, "curl -s http://127.0.0.1:9119/x && touch y"));
  assert.ok(!allowed(res, "curl -s http://evil.com/"));
  // The recipes send the agent's key file first (a long temp path too).
  const keyFile =
    "/tmp/pawe2e3f2db9c51479e8f7/proj/.git/worktrees/proj-a/paw-agent-key";
  const keyed = policyRegexes(
    geminiPolicy({ ...ctx, authHeader: `-K ${keyFile}` }),
  );
  assert.equal(keyed.length, 2);
  assert.ok(allowed(
    keyed,
    `curl -s -K ${keyFile} -X POST http://127.0.0.1:9119/publish -H 'Content-Type: application/json' -d '{"type":"agent.status"}'`,
  ));
  assert.ok(
    allowed(
      keyed,
      `curl -s -K ${keyFile} 'http://127.0.0.1:9119/messages/a?since=0'`,
    ),
  );
  assert.ok(allowed(keyed, "curl -s http://127.0.0.1:9119/status"));
  assert.ok(!allowed(keyed, "curl -s -K /etc/x http://127.0.0.1:9119/status"));
  assert.ok(
    !allowed(keyed, `curl -s -K ${keyFile} http://127.0.0.1:9119/x; rm -rf ~`),
  );
});

Deno.test("cliFilePlans() claude: CLAUDE.md import, allow rules and __cli-event hooks, no permission mode", () => {
  const plans = cliFilePlans(claude, ctx);
  assert.deepEqual(plans[0], {
    kind: "import",
    path: "CLAUDE.md",
    line: "@AGENTS.md",
  });
  const s = plans[1]!;
  assert.ok(s.kind === "json");
  assert.equal(s.path, ".claude/settings.local.json");
  const perms = s.content.permissions as Record<string, unknown>;
  assert.equal(perms.defaultMode, undefined);
  const hooks = s.content.hooks as Record<string, unknown>;
  assert.deepEqual(Object.keys(hooks).sort(), [
    "Notification",
    "PermissionRequest",
    "PostToolUse",
    "PreToolUse",
    "Stop",
    "UserPromptSubmit",
  ]);
  // Reporting hooks run in the background: Claude does not wait for them.
  assert.deepEqual(hooks.Stop, [{
    hooks: [{
      type: "command",
      command:
        "/usr/bin/deno run -A /src/main.ts __cli-event --cli claude --event Stop || true",
      async: true,
    }],
  }]);
  const entry = (e: string) =>
    (hooks[e] as Array<{ hooks: Array<Record<string, unknown>> }>)[0]!
      .hooks[0]!;
  // Claude waits for none of them in pane mode: PermissionRequest names
  // the tool call of a permission prompt itself.
  for (
    const e of [
      "Notification",
      "PermissionRequest",
      "PostToolUse",
      "PreToolUse",
      "UserPromptSubmit",
    ]
  ) {
    assert.equal(entry(e).async, true, e);
  }
});

Deno.test("cliFilePlans() claude repeats the user's own permission mode (never auto), so Claude offers no auto-mode dialog", () => {
  const mode = (m?: string) => {
    const s = cliFilePlans(claude, { ...ctx, claudeUserDefaultMode: m })[1]!;
    assert.ok(s.kind === "json");
    return (s.content.permissions as Record<string, unknown>).defaultMode;
  };
  assert.equal(mode("default"), "default");
  assert.equal(mode("acceptEdits"), "acceptEdits");
  assert.equal(mode("auto"), undefined);
  assert.equal(mode(undefined), undefined);
});

Deno.test("cliFilePlans() gemini: a policy file named in policyPaths (user folder kept), hooks; never tools.allowed", () => {
  const plans = cliFilePlans(CLI_PROFILES.gemini!, {
    ...ctx,
    cliName: "gemini",
    worktreePath: "/wt",
    geminiUserPolicies: "/home/u/.gemini/policies",
  });
  assert.deepEqual(plans.map((p) => p.path), [
    "GEMINI.md",
    ".gemini/git-paw-policy.toml",
    ".gemini/settings.json",
  ]);
  const settings = plans[2]!;
  assert.ok(settings.kind === "json");
  assert.deepEqual(settings.content.policyPaths, [
    "/wt/.gemini/git-paw-policy.toml",
    "/home/u/.gemini/policies",
  ]);
  assert.equal(settings.content.tools, undefined);
  const hooks = settings.content.hooks as Record<
    string,
    Array<{ matcher: string }>
  >;
  assert.deepEqual(Object.keys(hooks).sort(), [
    "AfterAgent",
    "AfterTool",
    "BeforeAgent",
    "BeforeTool",
    "Notification",
  ]);
  assert.equal(hooks.AfterAgent![0]!.matcher, "*");
});

Deno.test("cliFilePlans() codex: prefix rules for the helper, no login shell, network and git dirs writable", () => {
  const plans = cliFilePlans(CLI_PROFILES.codex!, {
    ...ctx,
    cliName: "codex",
    helperCommand: "/d run main.ts",
    selfArgv: ["/d", "run", "main.ts"],
    gitWritableRoots: ["/r/.git/worktrees/a", "/r/.git/objects"],
  });
  const rules = plans.find((p) => p.path === ".codex/rules/git-paw.rules")!;
  assert.ok(rules.kind === "own");
  assert.match(rules.content, /pattern = \["git","paw"\]/);
  assert.match(rules.content, /pattern = \["\/d","run","main.ts"\]/);
  assert.doesNotMatch(rules.content, /"curl"/);
  const cfg = plans.find((p) => p.path === ".codex/config.toml")!;
  assert.ok(cfg.kind === "toml");
  assert.equal(cfg.content.allow_login_shell, false);
  assert.equal(cfg.content.approval_policy, undefined);
  assert.equal(cfg.content.sandbox_mode, undefined);
  assert.deepEqual(cfg.content.sandbox_workspace_write, {
    network_access: true,
    writable_roots: ["/r/.git/worktrees/a", "/r/.git/objects"],
  });
});

Deno.test("cliFilePlans() with mcpArgv registers git-paw's MCP server, pre-allowed, per CLI; without it none", () => {
  const mcpArgv = ["/d", "run", "main.ts", "mcp", "--agent"];
  const server = { command: "/d", args: ["run", "main.ts", "mcp", "--agent"] };
  const withMcp = { ...ctx, mcpArgv, worktreePath: "/wt" };
  const claudePlans = cliFilePlans(claude, withMcp);
  assert.deepEqual(claudePlans.map((p) => p.path), [
    "CLAUDE.md",
    ".claude/settings.local.json",
    ".mcp.json",
  ]);
  const local = claudePlans[1]!;
  assert.ok(local.kind === "json");
  assert.deepEqual(local.content.enabledMcpjsonServers, ["git-paw"]);
  const allow = (local.content.permissions as { allow: string[] }).allow;
  assert.equal(allow.at(-1), "mcp__git-paw__*");
  assert.deepEqual(claudePlans[2], {
    kind: "json",
    path: ".mcp.json",
    content: { mcpServers: { "git-paw": { type: "stdio", ...server } } },
  });
  const gemini = cliFilePlans(CLI_PROFILES.gemini!, withMcp).find((p) =>
    p.path === ".gemini/settings.json"
  )!;
  assert.ok(gemini.kind === "json");
  assert.deepEqual(gemini.content.mcpServers, {
    "git-paw": { ...server, cwd: "/wt", trust: true },
  });
  const codex = cliFilePlans(CLI_PROFILES.codex!, withMcp).filter((p) =>
    p.path === ".codex/config.toml"
  );
  assert.equal(codex.length, 1, "one plan per file");
  assert.ok(codex[0]!.kind === "toml");
  assert.deepEqual(codex[0]!.content.mcp_servers, {
    "git-paw": {
      ...server,
      default_tools_approval_mode: "approve",
      env_vars: ["DENO_DIR", "XDG_CACHE_HOME", "GIT_PAW_TRACE"],
    },
  });
  // Without the argv: nothing registered, nothing approved.
  const bare = cliFilePlans(claude, ctx);
  assert.equal(bare.some((p) => p.path === ".mcp.json"), false);
  const bareLocal = bare[1]!;
  assert.ok(bareLocal.kind === "json");
  assert.equal(bareLocal.content.enabledMcpjsonServers, undefined);
  assert.equal(
    (bareLocal.content.permissions as { allow: string[] }).allow.some((r) =>
      r.startsWith("mcp__")
    ),
    false,
  );
  assert.deepEqual(cliFilePlans(CLI_PROFILES.demo!, withMcp), []);
});

Deno.test("withHelper() swaps git paw recipes for the absolute command", () => {
  assert.equal(
    withHelper("run git paw publish x; git paw inbox", "'/a b/git-paw'"),
    "run '/a b/git-paw' publish x; '/a b/git-paw' inbox",
  );
  assert.equal(withHelper("git paw inbox", "git paw"), "git paw inbox");
});

Deno.test("cliFilePlans() in approvals queue mode: the decision hook asks the queue and may wait", () => {
  const hooksOf = (cli: string, mode: "pane" | "queue") => {
    const plans = cliFilePlans(CLI_PROFILES[cli]!, {
      ...ctx,
      cliName: cli,
      worktreePath: "/wt",
      approvals: { mode, timeoutSeconds: 600 },
    });
    const s = plans.find((p) => p.kind === "json")!;
    assert.ok(s.kind === "json");
    return s.content.hooks as Record<
      string,
      Array<
        { hooks: Array<{ command: string; timeout?: number; async?: boolean }> }
      >
    >;
  };
  const q = hooksOf("claude", "queue");
  assert.deepEqual(q.PreToolUse, [{
    hooks: [{
      type: "command",
      command:
        "/usr/bin/deno run -A /src/main.ts __cli-event --cli claude --event PreToolUse --approvals queue || true",
      timeout: 630,
    }],
  }]);
  // Only the decision event changes.
  assert.equal(q.Stop![0]!.hooks[0]!.timeout, undefined);
  assert.doesNotMatch(q.Stop![0]!.hooks[0]!.command, /--approvals/);
  // Queue mode's decision hook blocks: it answers the CLI.
  assert.equal(
    (q.PreToolUse![0]!.hooks[0] as { async?: boolean }).async,
    undefined,
  );
  // Pane mode: as before.
  const p = hooksOf("claude", "pane");
  assert.doesNotMatch(p.PreToolUse![0]!.hooks[0]!.command, /--approvals/);
  assert.equal(p.PreToolUse![0]!.hooks[0]!.timeout, undefined);
  const g = hooksOf("gemini", "queue");
  assert.match(
    g.BeforeTool![0]!.hooks[0]!.command,
    /--event BeforeTool --approvals queue/,
  );
  assert.equal(g.BeforeTool![0]!.hooks[0]!.timeout, 630_000);
  assert.equal(g.AfterTool![0]!.hooks[0]!.timeout, 5000);
});

Deno.test("cliFilePlans() gemini: reporting hooks start in the background; BeforeTool blocks only as queue mode's decision hook", async () => {
  const hooksOf = (mode: "pane" | "queue") => {
    const plans = cliFilePlans(CLI_PROFILES.gemini!, {
      ...ctx,
      cliName: "gemini",
      worktreePath: "/wt",
      approvals: { mode, timeoutSeconds: 600 },
    });
    const s = plans.find((p) => p.kind === "json")!;
    assert.ok(s.kind === "json");
    return s.content.hooks as Record<
      string,
      Array<{ hooks: Array<{ command: string }> }>
    >;
  };
  const cmd = (h: ReturnType<typeof hooksOf>, e: string) =>
    h[e]![0]!.hooks[0]!.command;
  const plain =
    "/usr/bin/deno run -A /src/main.ts __cli-event --cli gemini --event AfterTool";
  for (const mode of ["pane", "queue"] as const) {
    const h = hooksOf(mode);
    assert.equal(
      cmd(h, "AfterTool"),
      backgroundHookCommand(`${plain} || true`),
    );
    for (const e of ["BeforeAgent", "AfterAgent", "Notification"]) {
      assert.match(cmd(h, e), new RegExp(`--event ${e} <&3 .*& \\} ; exit 0$`));
    }
  }
  // Pane mode: Gemini waits for none of them (its permission Notification
  // names the command itself).
  assert.match(
    cmd(hooksOf("pane"), "BeforeTool"),
    /--event BeforeTool <&3 .*& \} ; exit 0$/,
  );
  // Queue mode: the decision hook answers Gemini, so it blocks.
  const q = cmd(hooksOf("queue"), "BeforeTool");
  assert.match(q, /--event BeforeTool --approvals queue.*\|\| true$/);
  assert.doesNotMatch(q, /<&3/);
  assert.equal(
    backgroundHookCommand(`${plain} || true`),
    `exec 3<&0; { ${plain} <&3 >/dev/null 2>&1 3<&- & } ; exit 0`,
  );
  // The shell returns at once; the job still gets the event on stdin.
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/got`;
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        backgroundHookCommand(
          `sh -c 'sleep 0.2; cat > ${out}' || true`,
        ),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode('{"e":1}'));
    await w.close();
    const st = await child.output();
    assert.equal(st.code, 0);
    assert.equal(await Deno.stat(out).then(() => true, () => false), false);
    for (let i = 0; i < 100; i++) {
      const got = await Deno.readTextFile(out).catch(() => "");
      if (got === '{"e":1}') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await Deno.readTextFile(out), '{"e":1}');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
