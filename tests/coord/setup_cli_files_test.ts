import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type AgentSetup,
  releaseOutsideState,
  setupAgentWorktree,
  teardownAgentWorktree,
  userIgnoredFiles,
} from "../../lib/coord/setup.ts";
import { readMarker } from "../../lib/coord/marker.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import { parse as parseToml } from "smol-toml";
import {
  addWorktree,
  git,
  SELF,
  status,
  type TempRepo,
  tempRepo,
} from "./hooks_fixture.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";

const URL = "http://127.0.0.1:45123";

function agent(
  t: TempRepo,
  wt: string,
  cli: string,
  extra: Partial<AgentSetup> = {},
): AgentSetup {
  return {
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: "feat", worktree: wt, cli: cli }),
    brokerUrl: URL,
    peers: [],
    config: defaultConfig(),
    hookSelf: SELF,
    home: join(t.root, "home"),
    warn: () => {},
    ...extra,
  };
}

async function readOrNull(p: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(p);
  } catch {
    return null;
  }
}

async function exists(p: string): Promise<boolean> {
  return (await readOrNull(p)) !== null ||
    await Deno.stat(p).then(() => true, () => false);
}

Deno.test("setupAgentWorktree() claude: CLAUDE.md imports AGENTS.md, local settings pre-allow git-paw and hook __cli-event; invisible; teardown removes them", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  await setupAgentWorktree(agent(t, wt, "claude"));
  assert.equal(await readOrNull(join(wt, "CLAUDE.md")), "@AGENTS.md\n");
  const settings = JSON.parse(
    (await readOrNull(join(wt, ".claude", "settings.local.json")))!,
  );
  assert.ok(settings.permissions.allow.includes("Bash(git paw:*)"));
  assert.ok(
    settings.permissions.allow.includes(`Bash(curl -s ${URL}/*)`),
  );
  assert.equal(settings.permissions.defaultMode, undefined);
  const cmd = settings.hooks.Notification[0].hooks[0].command as string;
  assert.match(cmd, /__cli-event --cli claude --event Notification \|\| true$/);
  assert.ok(cmd.startsWith(Deno.execPath()));
  assert.equal(await status(wt), "");
  assert.equal(await status(t.repo), "");
  // Setup again (recover) leaves the same files, not doubled entries.
  await setupAgentWorktree(agent(t, wt, "claude"));
  const again = JSON.parse(
    (await readOrNull(join(wt, ".claude", "settings.local.json")))!,
  );
  assert.deepEqual(again, settings);
  assert.equal((await readMarker(wt))!.cli_files.length, 3);
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await exists(join(wt, "CLAUDE.md")), false);
  assert.equal(await exists(join(wt, ".claude")), false);
  assert.equal(await status(wt), "");
});

Deno.test("setupAgentWorktree() claude: a user's settings and CLAUDE.md come back byte-identical", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  const userSettings =
    '{"permissions":{"allow":["Bash(ls:*)"],"defaultMode":"plan"},\n  "model": "x"}\n';
  const userMd = "# My notes\r\nkeep me\n";
  await Deno.mkdir(join(wt, ".claude"));
  await Deno.writeTextFile(
    join(wt, ".claude", "settings.local.json"),
    userSettings,
  );
  await Deno.writeTextFile(join(wt, "CLAUDE.md"), userMd);
  await git(wt, "add", "CLAUDE.md");
  await git(wt, "commit", "-qm", "claude md");
  await setupAgentWorktree(agent(t, wt, "claude"));
  const merged = JSON.parse(
    (await readOrNull(join(wt, ".claude", "settings.local.json")))!,
  );
  assert.deepEqual(merged.permissions.allow.slice(0, 1), ["Bash(ls:*)"]);
  assert.ok(merged.permissions.allow.includes("Bash(git paw:*)"));
  assert.equal(merged.permissions.defaultMode, "plan");
  assert.equal(merged.model, "x");
  const md = (await readOrNull(join(wt, "CLAUDE.md")))!;
  assert.ok(md.startsWith(userMd));
  assert.match(md, /^@AGENTS\.md$/m);
  assert.equal(await status(wt), "", "tracked CLAUDE.md is skip-worktree");
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(
    await readOrNull(join(wt, ".claude", "settings.local.json")),
    userSettings,
  );
  assert.equal(await readOrNull(join(wt, "CLAUDE.md")), userMd);
  assert.equal(await git(wt, "ls-files", "-v", "CLAUDE.md"), "H CLAUDE.md\n");
});

Deno.test("setupAgentWorktree() claude: entries the user adds later survive teardown", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  await setupAgentWorktree(agent(t, wt, "claude"));
  const file = join(wt, ".claude", "settings.local.json");
  const s = JSON.parse((await readOrNull(file))!);
  s.permissions.allow.push("Bash(npm test:*)");
  await Deno.writeTextFile(file, JSON.stringify(s));
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.deepEqual(JSON.parse((await readOrNull(file))!), {
    permissions: { allow: ["Bash(npm test:*)"] },
  });
});

Deno.test("setupAgentWorktree() merges the [clis.NAME] settings_path file", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  const extra = join(t.root, "extra.json");
  await Deno.writeTextFile(
    extra,
    JSON.stringify({
      permissions: { allow: ["Bash(make:*)"] },
      env: { A: "1" },
    }),
  );
  const config = defaultConfig();
  config.clis.claude = {
    command: "claude",
    display_name: null,
    submit_delay_ms: 0,
    settings_path: extra,
  } as typeof config.clis[string];
  await setupAgentWorktree(agent(t, wt, "claude", { config }));
  const s = JSON.parse(
    (await readOrNull(join(wt, ".claude", "settings.local.json")))!,
  );
  assert.ok(s.permissions.allow.includes("Bash(make:*)"));
  assert.ok(s.permissions.allow.includes("Bash(git paw:*)"));
  assert.deepEqual(s.env, { A: "1" });
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await exists(join(wt, ".claude")), false);
});

Deno.test("setupAgentWorktree() gemini: GEMINI.md, a policy file in .gemini/settings.json policyPaths, hooks, trust only for a trusted repo", async (tc) => {
  await using t = await tempRepo();
  const home = join(t.root, "home");
  const trustFile = join(home, ".gemini", "trustedFolders.json");
  await tc.step("untrusted repo: no trust entry", async () => {
    const wt = await addWorktree(t, "g1");
    await setupAgentWorktree(agent(t, wt, "gemini"));
    assert.equal(await exists(trustFile), false);
    await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  });
  await tc.step(
    "trusted repo: the worktree is trusted, then released",
    async () => {
      await Deno.mkdir(join(home, ".gemini"), { recursive: true });
      const before = JSON.stringify({ [t.repo]: "TRUST_FOLDER" }, null, 2) +
        "\n";
      await Deno.writeTextFile(trustFile, before);
      const wt = await addWorktree(t, "g2");
      await setupAgentWorktree(agent(t, wt, "gemini"));
      assert.equal(await readOrNull(join(wt, "GEMINI.md")), "@AGENTS.md\n");
      const s = JSON.parse(
        (await readOrNull(join(wt, ".gemini", "settings.json")))!,
      );
      assert.deepEqual(s.policyPaths, [
        join(wt, ".gemini", "git-paw-policy.toml"),
        join(home, ".gemini", "policies"),
      ]);
      assert.equal(s.tools, undefined);
      assert.equal(s.hooks.AfterAgent[0].matcher, "*");
      assert.match(
        (await readOrNull(join(wt, ".gemini", "git-paw-policy.toml")))!,
        /commandPrefix = \["git paw"\]/,
      );
      const trust = JSON.parse((await readOrNull(trustFile))!);
      assert.equal(trust[wt], "TRUST_FOLDER");
      assert.equal(await status(wt), "");
      await releaseOutsideState(wt);
      assert.equal(await readOrNull(trustFile), before);
      await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
      assert.equal(await exists(join(wt, ".gemini")), false);
      assert.equal(await exists(join(wt, "GEMINI.md")), false);
    },
  );
});

Deno.test("setupAgentWorktree() codex: AGENTS.md with the helper by absolute command, .codex config and rules; a user's config.toml comes back", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  await Deno.mkdir(join(wt, ".codex"));
  const userToml =
    '# mine\nmodel = "o9"\n\n[sandbox_workspace_write]\nnetwork_access = false\n';
  await Deno.writeTextFile(join(wt, ".codex", "config.toml"), userToml);
  await setupAgentWorktree(agent(t, wt, "codex"));
  const cfg = parseToml(
    (await readOrNull(join(wt, ".codex", "config.toml")))!,
  ) as {
    model: string;
    allow_login_shell: boolean;
    sandbox_workspace_write: {
      network_access: boolean;
      writable_roots: string[];
    };
  };
  assert.equal(cfg.model, "o9");
  assert.equal(cfg.allow_login_shell, false);
  // The user's own choice stands.
  assert.equal(cfg.sandbox_workspace_write.network_access, false);
  const gitDir = (await git(wt, "rev-parse", "--absolute-git-dir")).trim();
  assert.ok(cfg.sandbox_workspace_write.writable_roots.includes(gitDir));
  assert.ok(
    cfg.sandbox_workspace_write.writable_roots.includes(
      join(t.repo, ".git", "objects"),
    ),
  );
  assert.match(
    (await readOrNull(join(wt, ".codex", "rules", "git-paw.rules")))!,
    /prefix_rule\(pattern = \["git","paw"\]/,
  );
  assert.equal(await exists(join(wt, "CLAUDE.md")), false);
  assert.equal(await exists(join(wt, ".claude")), false);
  const md = (await readOrNull(join(wt, "AGENTS.md")))!;
  assert.match(md, /## git-paw Session Assignment/);
  assert.ok(md.includes(`${Deno.execPath()} run -A`), "absolute helper");
  assert.doesNotMatch(md, /`git paw publish/);
  assert.equal(await status(wt), "");
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await readOrNull(join(wt, ".codex", "config.toml")), userToml);
  assert.equal(await exists(join(wt, ".codex", "rules")), false);
});

Deno.test("userIgnoredFiles() counts per-CLI files git-paw created as its own, a user's merged file as theirs", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  await Deno.mkdir(join(wt, ".claude"));
  await Deno.writeTextFile(
    join(wt, ".claude", "settings.local.json"),
    '{"model":"x"}\n',
  );
  await setupAgentWorktree(agent(t, wt, "claude"));
  assert.deepEqual(
    await userIgnoredFiles(wt, [
      "CLAUDE.md",
      ".claude/settings.local.json",
      "AGENTS.md",
    ]),
    [".claude/settings.local.json"],
  );
});
