/**
 * The fast start of `git paw mcp --agent` (lib/mcp/front.ts) answers as
 * the SDK server does: the same frames for the same requests, from data
 * that must not go stale, and everything else from the SDK server behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sh } from "../session/git_fixture.ts";
import { MAIN, mcpRepo } from "./_mcp_helpers.ts";
import { AGENT_TOOL_LIST } from "../../lib/mcp/tool_list.gen.ts";
import { listedTools, toolsFor } from "../../lib/mcp/server.ts";

Deno.test("tool_list.gen.ts is the agent mode's tools/list (deno task gen:mcp-tools)", () => {
  assert.deepEqual(AGENT_TOOL_LIST, listedTools(toolsFor(true)));
});

/** A linked worktree of `repo` with a marker (`extra` merged into it). */
async function agentWorktree(
  repo: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const path = join(repo, "..", "proj-a");
  await sh(repo, "worktree", "add", "-q", "-b", "feat/a", path);
  const gitDir = await sh(path, "rev-parse", "--absolute-git-dir");
  await Deno.writeTextFile(
    join(gitDir, "paw-agent-id"),
    JSON.stringify({
      version: 1,
      agent_id: "feat-a",
      expected_branch: "feat/a",
      broker_url: null,
      strict_branch_guard: false,
      timestamp: new Date().toISOString(),
      repo,
      agents_md: { mode: "none", created: false },
      ...extra,
    }),
  );
  return await Deno.realPath(path);
}

/** Write `frames` to `git paw mcp <args>` in `cwd`, close; its output. */
async function exchange(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  frames: unknown[],
) {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "mcp", ...args],
    cwd,
    env: { ...env, GIT_PAW_TRACE: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(
    new TextEncoder().encode(
      frames.map((f) => typeof f === "string" ? f : JSON.stringify(f))
        .join("\n") + "\n",
    ),
  );
  await w.close();
  const out = await p.output();
  const byId = new Map<unknown, unknown>();
  const text = new TextDecoder().decode(out.stdout);
  for (const line of text.split("\n").filter((l) => l)) {
    const m = JSON.parse(line) as { id?: unknown };
    assert.ok(!byId.has(m.id), `one answer per id: ${line}`);
    byId.set(m.id, m);
  }
  return {
    code: out.code,
    byId,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const NO_MCP = '[specs]\ndir = "openspec/changes"\ntype = "openspec"\n';

const FRAMES: unknown[] = [
  {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "t", version: "1" },
    },
  },
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 2, method: "tools/list" },
  { jsonrpc: "2.0", id: "p", method: "ping" },
  "not json",
  { jsonrpc: "2.0", id: 3, method: "tools/list", params: { cursor: 7 } },
  {
    jsonrpc: "2.0",
    id: 4,
    method: "tools/call",
    params: { name: "whoami", arguments: {} },
  },
  {
    jsonrpc: "2.0",
    id: 5,
    method: "tools/call",
    params: { name: "get_intents", arguments: {} },
  },
  { jsonrpc: "2.0", id: 6, method: "resources/list" },
  { jsonrpc: "2.0", id: 9, method: "prompts/list", params: {} },
  {
    jsonrpc: "2.0",
    id: 10,
    method: "logging/setLevel",
    params: { level: "debug" },
  },
  {
    jsonrpc: "2.0",
    id: 7,
    method: "initialize",
    params: {
      protocolVersion: "1999-01-01",
      capabilities: {},
      clientInfo: { name: "t", version: "1" },
    },
  },
  { jsonrpc: "2.0", id: 8, method: "tools/list", extra: true },
];

Deno.test("git paw mcp --agent: the fast start answers every frame as the full start does", async () => {
  await using r = await mcpRepo(NO_MCP);
  const wt = await agentWorktree(r.repo);
  const fast = await exchange(["--agent"], wt, r.env, FRAMES);
  // `--repo` takes the full start (commander, then the SDK server).
  const full = await exchange(["--agent", "--repo", wt], wt, r.env, FRAMES);
  assert.match(fast.stderr, /mcp front: initialize answered/);
  assert.match(fast.stderr, /mcp front: tools\/list answered/);
  assert.doesNotMatch(full.stderr, /mcp front/);
  assert.equal(fast.code, 0, fast.stderr);
  assert.equal(full.code, 0, full.stderr);
  assert.deepEqual(
    [...fast.byId.keys()].sort(),
    [1, 10, 2, 3, 4, 5, 6, 7, 9, "p"],
  );
  for (const [id, m] of full.byId) {
    assert.deepEqual(fast.byId.get(id), m, `answer to ${id}`);
  }
  assert.equal(fast.byId.size, full.byId.size);
  for (const line of ["agent mode as feat-a (feat/a)", "call whoami"]) {
    assert.ok(fast.stderr.includes(line), fast.stderr);
  }
});

Deno.test("git paw mcp --agent: the fast start with a marker its schema refuses stops at the first call as the full start does at its start", async () => {
  await using r = await mcpRepo(NO_MCP);
  const wt = await agentWorktree(r.repo, { agents_md: { mode: "bogus" } });
  const frames = FRAMES.slice(0, 3).concat([FRAMES[6]]);
  const fast = await exchange(["--agent"], wt, r.env, frames);
  const full = await exchange(["--agent", "--repo", wt], wt, r.env, frames);
  const refused = /MCP error: --agent needs a git-paw agent worktree/;
  assert.equal(full.code, 1);
  assert.match(full.stderr, refused);
  assert.equal(fast.code, 1);
  assert.match(fast.stderr, refused);
  assert.deepEqual([...fast.byId.keys()], [1, 2], "no answer to the call");
});
