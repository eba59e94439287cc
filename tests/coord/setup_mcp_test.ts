/**
 * Agent setup registers git-paw's MCP server (`git paw mcp --agent`) in each
 * CLI's MCP config inside the worktree, pre-allowed, hidden from git, and
 * takes exactly that out again on teardown.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { parse as parseToml } from "smol-toml";
import {
  type AgentSetup,
  setupAgentWorktree,
  teardownAgentWorktree,
} from "../../lib/coord/setup.ts";
import { defaultConfig } from "../../lib/core/config.ts";
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
const ARGS = [...SELF.slice(1), "mcp", "--agent"];

function agent(t: TempRepo, wt: string, cli: string): AgentSetup {
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
  };
}

async function readOrNull(p: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(p);
  } catch {
    return null;
  }
}

async function readJson(p: string) {
  const text = await readOrNull(p);
  assert.ok(text !== null, `${p} exists`);
  return JSON.parse(text);
}

/** The Deno cache this test process uses. */
async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

async function exists(p: string): Promise<boolean> {
  return await Deno.lstat(p).then(() => true, () => false);
}

Deno.test("setupAgentWorktree() claude: .mcp.json registers git-paw mcp --agent, settings approve it and allow its tools; hidden; teardown removes all", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  await setupAgentWorktree(agent(t, wt, "claude"));
  assert.deepEqual((await readJson(join(wt, ".mcp.json"))).mcpServers, {
    "git-paw": { type: "stdio", command: SELF[0], args: ARGS },
  });
  const s = await readJson(join(wt, ".claude", "settings.local.json"));
  assert.deepEqual(s.enabledMcpjsonServers, ["git-paw"]);
  assert.ok(s.permissions.allow.includes("mcp__git-paw__*"));
  assert.ok(s.permissions.allow.includes("Bash(git paw:*)"));
  assert.equal(await status(wt), "");
  assert.equal(await status(t.repo), "");
  // Setup again (recover) writes the same, not doubled entries.
  await setupAgentWorktree(agent(t, wt, "claude"));
  assert.deepEqual(
    (await readJson(join(wt, ".mcp.json"))).mcpServers["git-paw"].args,
    ARGS,
  );
  assert.deepEqual(
    (await readJson(join(wt, ".claude", "settings.local.json")))
      .enabledMcpjsonServers,
    ["git-paw"],
  );
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await exists(join(wt, ".mcp.json")), false);
  assert.equal(await exists(join(wt, ".claude")), false);
  assert.equal(await status(wt), "");
});

Deno.test("setupAgentWorktree() claude: a committed .mcp.json and the user's settings come back byte-identical", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  const userMcp =
    '{\n    "mcpServers": {"docs": {"command": "docs-server", "args": []}}\n}\n';
  const userSettings =
    '{"enabledMcpjsonServers":["docs"],"permissions":{"allow":["mcp__docs__*"]}}';
  await Deno.writeTextFile(join(wt, ".mcp.json"), userMcp);
  await git(wt, "add", ".mcp.json");
  await git(wt, "commit", "-qm", "project mcp");
  await Deno.mkdir(join(wt, ".claude"));
  await Deno.writeTextFile(
    join(wt, ".claude", "settings.local.json"),
    userSettings,
  );
  const before = await status(wt);
  await setupAgentWorktree(agent(t, wt, "claude"));
  const mcp = await readJson(join(wt, ".mcp.json"));
  assert.deepEqual(Object.keys(mcp.mcpServers), ["docs", "git-paw"]);
  assert.equal(mcp.mcpServers.docs.command, "docs-server");
  const s = await readJson(join(wt, ".claude", "settings.local.json"));
  assert.deepEqual(s.enabledMcpjsonServers, ["docs", "git-paw"]);
  assert.deepEqual(s.permissions.allow.slice(0, 1), ["mcp__docs__*"]);
  assert.ok(s.permissions.allow.includes("mcp__git-paw__*"));
  assert.equal(await status(wt), "", "tracked .mcp.json is skip-worktree");
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await readOrNull(join(wt, ".mcp.json")), userMcp);
  assert.equal(
    await readOrNull(join(wt, ".claude", "settings.local.json")),
    userSettings,
  );
  assert.equal(await git(wt, "ls-files", "-v", ".mcp.json"), "H .mcp.json\n");
  assert.equal(await status(wt), before);
});

Deno.test("setupAgentWorktree() gemini: mcpServers.git-paw in .gemini/settings.json, trusted, cwd the worktree; a user's file comes back byte-identical", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  const user =
    '{\n  "mcpServers": { "docs": { "command": "docs-server" } },\n  "ui": {"theme": "x"}\n}\n';
  await Deno.mkdir(join(wt, ".gemini"));
  await Deno.writeTextFile(join(wt, ".gemini", "settings.json"), user);
  const before = await status(wt);
  await setupAgentWorktree(agent(t, wt, "gemini"));
  const s = await readJson(join(wt, ".gemini", "settings.json"));
  assert.deepEqual(s.mcpServers, {
    docs: { command: "docs-server" },
    "git-paw": { command: SELF[0], args: ARGS, cwd: wt, trust: true },
  });
  assert.equal(s.ui.theme, "x");
  assert.ok(Array.isArray(s.policyPaths), "the policy stays in one file");
  assert.equal(await status(wt), "");
  assert.equal(await status(t.repo), "");
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await readOrNull(join(wt, ".gemini", "settings.json")), user);
  assert.equal(await exists(join(wt, ".gemini", "git-paw-policy.toml")), false);
  assert.equal(await status(wt), before);
});

Deno.test("setupAgentWorktree() gemini without a user file: created, then removed with its folder", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  await setupAgentWorktree(agent(t, wt, "gemini"));
  const s = await readJson(join(wt, ".gemini", "settings.json"));
  assert.equal(s.mcpServers["git-paw"].trust, true);
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await exists(join(wt, ".gemini")), false);
});

Deno.test("setupAgentWorktree() codex: [mcp_servers.git-paw] in .codex/config.toml, tools approved; a user's config comes back byte-identical", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  const user =
    '# mine\nmodel = "o9"\n\n[mcp_servers.docs]\ncommand = "docs-server"\n';
  await Deno.mkdir(join(wt, ".codex"));
  await Deno.writeTextFile(join(wt, ".codex", "config.toml"), user);
  const before = await status(wt);
  await setupAgentWorktree(agent(t, wt, "codex"));
  const text = (await readOrNull(join(wt, ".codex", "config.toml")))!;
  const cfg = parseToml(text) as {
    model: string;
    mcp_servers: Record<string, Record<string, unknown>>;
  };
  assert.equal(cfg.model, "o9");
  assert.deepEqual({ ...cfg.mcp_servers.docs }, { command: "docs-server" });
  assert.deepEqual({ ...cfg.mcp_servers["git-paw"] }, {
    command: SELF[0],
    args: ARGS,
    default_tools_approval_mode: "approve",
    // Codex hands its MCP servers a short env list: Deno's cache goes too.
    env_vars: ["DENO_DIR", "XDG_CACHE_HOME", "GIT_PAW_TRACE"],
  });
  assert.match(text, /^\[mcp_servers\.git-paw\]$/m);
  assert.equal(await status(wt), "");
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(await readOrNull(join(wt, ".codex", "config.toml")), user);
  assert.equal(await status(wt), before);
});

Deno.test("the registered server runs: the SDK client started from .mcp.json in the worktree lists the agent tools", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat");
  await setupAgentWorktree(agent(t, wt, "claude"));
  const entry = (await readJson(join(wt, ".mcp.json"))).mcpServers["git-paw"];
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: join(t.root, "home"),
    XDG_CONFIG_HOME: join(t.root, "config"),
    XDG_DATA_HOME: join(t.root, "data"),
    XDG_STATE_HOME: join(t.root, "state"),
    NO_COLOR: "1",
  };
  // The private HOME must not move Deno's cache (a cold one compiles all).
  env.DENO_DIR = Deno.env.get("DENO_DIR") ?? await denoDir();
  const transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args,
    cwd: wt,
    env,
    stderr: "pipe",
  });
  const client = new Client({ name: "paw-test-client", version: "1.0.0" });
  await client.connect(transport);
  try {
    const names = (await client.listTools()).tools.map((x: { name: string }) =>
      x.name
    );
    for (const n of ["whoami", "publish_status", "read_inbox", "get_intents"]) {
      assert.ok(names.includes(n), `${n} in ${names.join(",")}`);
    }
    const who = await client.callTool({ name: "whoami", arguments: {} });
    assert.match(JSON.stringify(who.structuredContent), /"feat"/);
  } finally {
    await client.close();
  }
});
