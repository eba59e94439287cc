import assert from "node:assert/strict";
import { join } from "node:path";
import { sh } from "../session/git_fixture.ts";
import { MAIN, mcpClient, mcpRepo } from "./_mcp_helpers.ts";
import {
  ensureAgentKey,
  supervisorCredential,
} from "../../lib/coord/credentials.ts";
import { spawnBroker as spawnBrokerProcess } from "../_helpers/broker.ts";

/**
 * `git-paw broker --port 0 --require-credentials` in `cwd` (the repo whose
 * agent worktrees' keys it takes) as a subprocess; dispose stops it.
 */
async function spawnBroker(dataDir: string, cwd: string) {
  const b = await spawnBrokerProcess([
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--session",
    "mcp-agent",
    "--require-credentials",
  ], { cwd });
  assert.ok(b.url, `broker printed its URL: ${b.stdout}`);
  return {
    url: b.url,
    async [Symbol.asyncDispose]() {
      b.child.kill("SIGTERM");
      await b.child.status;
      await b.rest;
      await b.errText;
    },
  };
}

/** A linked worktree of `repo` on `branch` carrying a git-paw marker. */
async function agentWorktree(
  repo: string,
  branch: string,
  agentId: string,
  brokerUrl: string,
): Promise<string> {
  const path = join(repo, "..", `proj-${agentId}`);
  await sh(repo, "worktree", "add", "-q", "-b", branch, path);
  const gitDir = await sh(path, "rev-parse", "--absolute-git-dir");
  await Deno.writeTextFile(
    join(gitDir, "paw-agent-id"),
    JSON.stringify({
      version: 1,
      agent_id: agentId,
      expected_branch: branch,
      broker_url: brokerUrl,
      strict_branch_guard: false,
      timestamp: new Date().toISOString(),
      repo,
      agents_md: { mode: "none", created: false },
    }),
  );
  await ensureAgentKey(gitDir); // what setup mints next to the marker
  return await Deno.realPath(path);
}

async function getJson(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return await res.json();
}

/** A repo config without `[mcp]`: `mcp --agent` takes its fast start. */
const NO_MCP_CONFIG = '[specs]\ndir = "openspec/changes"\ntype = "openspec"\n';

for (
  const [start, config] of [
    ["the full start (a config naming the server)", undefined],
    ["the fast start", NO_MCP_CONFIG],
  ] as const
) {
  Deno.test(`git paw mcp --agent publishes to a real broker under the worktree's identity, not the environment's (${start})`, async () => {
    await publishesAsWorktree(config);
  });
}

async function publishesAsWorktree(config: string | undefined) {
  await using r = await mcpRepo(config);
  await using broker = await spawnBroker(join(r.path, "broker"), r.repo);
  const wt = await agentWorktree(r.repo, "feat/a", "feat-a", broker.url);
  await using c = await mcpClient(["--agent"], {
    env: { ...r.env, GIT_PAW_AGENT_ID: "impostor", GIT_PAW_TRACE: "1" },
    cwd: wt,
  });
  assert.equal(
    c.client.getServerVersion()?.name,
    config ? "git-paw" : "paw-test",
  );
  // Which start answered: the fast one only without `[mcp]` in the config.
  assert.equal(
    c.stderr().includes("mcp front: initialize answered"),
    config !== undefined,
    c.stderr(),
  );

  const names = (await c.client.listTools()).tools.map((t: { name: string }) =>
    t.name
  );
  assert.equal(names.length, 28 + 7);
  for (
    const n of [
      "whoami",
      "publish_status",
      "publish_intent",
      "publish_blocked",
      "publish_question",
      "publish_done",
      "read_inbox",
    ]
  ) assert.ok(names.includes(n), n);

  assert.deepEqual(await c.call("whoami"), {
    agent_id: "feat-a",
    branch: "feat/a",
    broker_url: broker.url,
  });

  const st = await c.call("publish_status", {
    status: "working",
    message: "parsing",
    files: ["src/a.ts"],
  });
  assert.equal(st.ok, true);
  assert.equal(st.agent_id, "feat-a");
  let roster = (await getJson(`${broker.url}/status`)).agents;
  assert.deepEqual(
    roster.map((a: { agent_id: string; status: string }) => [
      a.agent_id,
      a.status,
    ]),
    [["feat-a", "working"]],
  );

  await c.call("publish_intent", {
    files: ["src/a.ts", {
      path: "src/b.ts",
      regions: [{ kind: "range", start_line: 1, end_line: 9 }],
    }],
    summary: "parser work",
    valid_for_seconds: 300,
  });
  const log = (await getJson(`${broker.url}/log?since=0`)).entries;
  const intent = log.find((e: { message: { type: string } }) =>
    e.message.type === "agent.intent"
  );
  assert.equal(intent.message.agent_id, "feat-a");
  assert.deepEqual(intent.message.payload.files[1], {
    path: "src/b.ts",
    regions: [{ kind: "range", start_line: 1, end_line: 9 }],
  });
  // The read-only tools follow the repo's session receipt (none here), not
  // the marker's broker.
  assert.deepEqual(await c.call("get_intents"), { intents: [] });

  // The tools sent feat-a's key: the broker takes nothing without one.
  const forged = await fetch(`${broker.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      type: "agent.status",
      agent_id: "feat-a",
      payload: { status: "done" },
    }),
  });
  assert.equal(forged.status, 403);
  await forged.body?.cancel();
  // Inbox: a feedback for feat-a (from the supervisor, with its key)
  // arrives once, then the cursor has moved.
  const supervisorKey = await supervisorCredential(join(r.path, "broker"));
  const res = await fetch(`${broker.url}/publish`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-git-paw-agent-key": supervisorKey,
    },
    body: JSON.stringify({
      type: "agent.feedback",
      agent_id: "feat-a",
      payload: { from: "supervisor", errors: ["tests fail"] },
    }),
  });
  await res.body?.cancel();
  assert.equal(res.status, 202);
  const inbox = await c.call("read_inbox", {});
  assert.equal(inbox.agent_id, "feat-a");
  assert.equal(inbox.messages.length, 1);
  assert.deepEqual(inbox.messages[0].payload.errors, ["tests fail"]);
  assert.deepEqual((await c.call("read_inbox", {})).messages, []);
  assert.equal((await c.call("read_inbox", { all: true })).messages.length, 1);

  await c.call("publish_blocked", { needs: "the schema", from: "feat-b" });
  await c.call("publish_question", { question: "Which port?" });
  const bad = await c.client.callTool({
    name: "publish_blocked",
    arguments: { needs: "<what>", from: "feat-b" },
  });
  assert.equal(bad.isError, true, "a placeholder is refused, as a failed call");
  assert.match(JSON.stringify(bad.content), /placeholder/);

  await c.call("publish_done", { message: "parser done", exports: ["parse"] });
  roster = (await getJson(`${broker.url}/status`)).agents;
  assert.deepEqual(
    roster.map((a: { agent_id: string; status: string }) => [
      a.agent_id,
      a.status,
    ]),
    [["feat-a", "done"]],
    "nothing was filed under the environment's id",
  );
  const types = (await getJson(`${broker.url}/log?since=0`)).entries
    .filter((e: { message: { agent_id?: string } }) =>
      e.message.agent_id === "feat-a"
    ).map((e: { message: { type: string } }) => e.message.type);
  assert.deepEqual(types, [
    "agent.status",
    "agent.intent",
    "agent.feedback",
    "agent.blocked",
    "agent.question",
    "agent.status",
    "agent.artifact",
  ]);
  assert.match(
    c.stderr(),
    /GIT_PAW_AGENT_ID=impostor is not this worktree's agent/,
  );
}

Deno.test("git paw mcp --agent refuses a checkout without an agent marker", async () => {
  await using r = await mcpRepo();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "mcp", "--agent", "--repo", r.repo],
    env: { ...r.env, GIT_PAW_AGENT_ID: "feat-a" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.equal(new TextDecoder().decode(out.stdout), "");
  assert.match(
    new TextDecoder().decode(out.stderr),
    /MCP error: --agent needs a git-paw agent worktree/,
  );
});
