import assert from "node:assert/strict";
import { join } from "node:path";
import { testBroker } from "../_helpers/broker.ts";
import { MAIN, mcpClient, mcpRepo } from "./_mcp_helpers.ts";

const READ_ONLY = [
  "get_intents",
  "get_intent",
  "get_conflicts",
  "get_session_status",
  "get_session_summary",
  "get_learnings",
  "get_adrs",
  "get_adr",
  "get_test_strategy",
  "get_security_checklist",
  "get_dod",
  "check_dod",
  "get_constitution",
  "get_specs",
  "get_spec",
  "get_tasks",
  "get_task",
  "get_dependency_graph",
  "get_skill",
  "get_branches",
  "get_recent_commits",
  "get_diff",
  "get_readme",
  "list_docs",
  "get_doc",
  "list_files",
  "read_file",
  "search_code",
];

Deno.test("git paw mcp lists the 28 read-only tools under the [mcp] name, and no agent tools", async () => {
  await using r = await mcpRepo();
  await using c = await mcpClient(["--repo", r.repo], { env: r.env });
  const names = (await c.client.listTools()).tools.map((t: { name: string }) =>
    t.name
  );
  assert.equal(READ_ONLY.length, 28);
  assert.deepEqual([...names].sort(), [...READ_ONLY].sort());
  assert.equal(c.client.getServerVersion()?.name, "paw-test");
});

Deno.test("git paw mcp answers with null and empty results when there is no session", async () => {
  await using r = await mcpRepo();
  await using c = await mcpClient(["--repo", r.repo], { env: r.env });
  assert.deepEqual(await c.call("get_session_status"), { session: null });
  assert.deepEqual(await c.call("get_session_summary"), { summary: null });
  assert.deepEqual(await c.call("get_intents"), { intents: [] });
  assert.deepEqual(await c.call("get_intent", { branch_id: "feat-a" }), {
    intent: null,
  });
  assert.deepEqual(await c.call("get_conflicts"), { conflicts: [] });
  const learnings = await c.call("get_learnings");
  assert.equal(learnings.sections.length, 9);
  assert.deepEqual(learnings.sections[0], {
    category: "Conflict events",
    entries: [],
  });
  assert.deepEqual(await c.call("get_test_strategy"), { content: null });
  assert.deepEqual(await c.call("get_constitution"), { content: null });
});

Deno.test("git paw mcp serves specs, governance, docs and git from the repo", async () => {
  await using r = await mcpRepo();
  await using c = await mcpClient(["--repo", r.repo], { env: r.env });
  const specs = await c.call("get_specs");
  assert.deepEqual(
    specs.specs.map((s: { id: string; title: string }) => [s.id, s.title]),
    [["add-db", "add-db"], ["add-search", "Add search"]],
  );
  const spec = await c.call("get_spec", { id: "add-search" });
  assert.deepEqual(
    spec.spec.artifacts.map((a: { name: string }) => a.name),
    ["proposal", "tasks", "specs/search/spec.md"],
  );
  assert.deepEqual(await c.call("get_spec", { id: "nope" }), { spec: null });
  const tasks = await c.call("get_tasks", { spec: "add-search" });
  assert.deepEqual(
    tasks.tasks.map((t: { complete: boolean }) => t.complete),
    [true, false],
  );
  assert.equal(
    (await c.call("get_task", { spec: "add-search", id: "2" })).task
      .description,
    "1.2 query",
  );
  assert.deepEqual((await c.call("get_dependency_graph")).edges, [
    { from: "add-search", to: "add-db" },
  ]);
  assert.deepEqual((await c.call("get_adrs")).adrs, [{
    id: "0001-use",
    title: "Use Deno",
    path: "adr/0001-use-deno.md",
    status: "Accepted",
  }]);
  assert.equal(
    (await c.call("get_adr", { query: "we use deno" })).adr.path,
    "adr/0001-use-deno.md",
  );
  assert.deepEqual(await c.call("check_dod", { branch: "feat/a" }), {
    branch: "feat/a",
    items: [
      { text: "tests pass", complete: true },
      { text: "docs updated", complete: false },
    ],
  });
  assert.match((await c.call("get_dod")).content, /docs updated/);
  assert.deepEqual(await c.call("get_readme"), { content: "# proj\n" });
  assert.deepEqual((await c.call("list_docs")).docs, [
    { path: "deep/more.md" },
    { path: "guide.md" },
  ]);
  assert.deepEqual(await c.call("get_doc", { path: "guide.md" }), {
    content: "# Guide\nRead me.\n",
  });
  const escaped = await c.call("get_doc", { path: "../DOD.md" });
  assert.equal(escaped.content, null);
  assert.match(escaped.message, /outside the docs directory/);
  const skill = await c.call("get_skill", { name: "coordination" });
  assert.equal(skill.skill.source, "embedded");
  assert.match(skill.skill.content, /proj/);
  assert.equal(
    (await c.call("get_skill", { name: "../../etc" })).skill,
    null,
  );
  const branches = await c.call("get_branches");
  assert.deepEqual(
    branches.branches.map((b: { name: string; current: boolean }) => [
      b.name,
      b.current,
    ]),
    [["main", true]],
  );
  const commits = await c.call("get_recent_commits", {
    branch: "main",
    limit: 1,
  });
  assert.equal(commits.commits.length, 1);
  assert.equal(commits.commits[0].subject, "fixture");
  // A revision that looks like an option is a revision, not an option.
  assert.deepEqual(
    await c.call("get_recent_commits", { branch: "--output=/tmp/x" }),
    { commits: [] },
  );
  const diff = await c.call("get_diff", { branch: "main", base: "main~1" });
  assert.ok(diff.files_changed >= 5, JSON.stringify(diff).slice(0, 200));
  assert.ok(diff.insertions > 0);
  assert.match(diff.diff, /\+export function parse/);
});

Deno.test("git paw mcp lists, reads and searches only the repo's non-ignored files", async () => {
  await using r = await mcpRepo();
  await Deno.writeTextFile(join(r.repo, "big.txt"), "x".repeat(3 << 20));
  await using c = await mcpClient(["--repo", r.repo], { env: r.env });
  const files: string[] = (await c.call("list_files")).files;
  assert.ok(files.includes("src/a.ts"));
  assert.ok(files.includes("notes.txt"), "untracked files are listed");
  assert.ok(!files.includes("secret.env"), "ignored files are not");
  assert.deepEqual((await c.call("list_files", { subpath: "docs" })).files, [
    "docs/deep/more.md",
    "docs/guide.md",
  ]);
  assert.deepEqual(await c.call("read_file", { path: "src/a.ts" }), {
    content: 'export function parse() {\n  return "needle";\n}\n',
  });
  assert.equal(
    (await c.call("read_file", { path: "notes.txt" })).content,
    "untracked needle\n",
  );
  for (
    const [path, why] of [
      ["../outside.txt", /outside the repository root/],
      [join(r.path, "outside.txt"), /outside the repository root/],
      ["src/../../outside.txt", /outside the repository root/],
      ["escape", /outside the repository root/],
      ["secret.env", /ignored by git/],
      ["hidden", /ignored by git/],
      [".git/config", /inside \.git/],
      ["missing.txt", /not found/],
      ["src", /not a regular file/],
      ["big.txt", /more than read_file returns/],
    ] as const
  ) {
    const res = await c.call("read_file", { path });
    assert.equal(res.content, null, path);
    assert.match(res.message, why, path);
  }
  const found = await c.call("search_code", { query: "needle" });
  assert.deepEqual(found, {
    matches: [
      { path: "notes.txt", line_number: 1, line: "untracked needle" },
      { path: "src/a.ts", line_number: 2, line: '  return "needle";' },
    ],
    truncated: false,
  });
  assert.deepEqual(
    (await c.call("search_code", { query: "TOKEN" })).matches,
    [],
    "ignored files are not searched",
  );
  assert.deepEqual(
    (await c.call("search_code", { query: "needle", subpath: "src" }))
      .matches.length,
    1,
  );
});

Deno.test("git paw mcp: unknown tool and bad arguments are JSON-RPC errors", async () => {
  await using r = await mcpRepo();
  await using c = await mcpClient(["--repo", r.repo], { env: r.env });
  await assert.rejects(
    c.client.callTool({ name: "no_such_tool", arguments: {} }),
    /tool not found: no_such_tool/,
  );
  await assert.rejects(
    c.client.callTool({ name: "read_file", arguments: {} }),
    /invalid arguments for read_file: path/,
  );
});

Deno.test("git paw mcp: a malformed config is a JSON-RPC error for the tools that read it", async () => {
  await using r = await mcpRepo('[specs]\ntype = "nosuch"\n');
  await using c = await mcpClient(["--repo", r.repo], { env: r.env });
  assert.equal(c.client.getServerVersion()?.name, "git-paw");
  await assert.rejects(
    c.client.callTool({ name: "get_dod", arguments: {} }),
    /Config error: .*specs\.type/,
  );
  // Tools that do not need the config still answer.
  assert.ok((await c.call("list_files")).files.includes("src/a.ts"));
});

Deno.test("git paw mcp reads intents and conflicts from the active session's broker", async () => {
  await using r = await mcpRepo();
  await using broker = await testBroker();
  const port = Number(new URL(broker.url).port);
  const sessions = join(r.dataHome, "git-paw", "sessions");
  await Deno.mkdir(sessions, { recursive: true });
  const receipt = {
    session_name: "paw-proj",
    repo_path: r.repo,
    project_name: "proj",
    created_at: new Date().toISOString(),
    status: "active",
    worktrees: [
      {
        branch: "feat/a",
        worktree_path: "/x/a",
        cli: "demo",
        branch_created: true,
      },
      {
        branch: "feat/b",
        worktree_path: "/x/b",
        cli: "demo",
        branch_created: true,
      },
    ],
    broker_port: port,
    broker_bind: "0.0.0.0",
    mode: "bare",
  };
  await Deno.writeTextFile(
    join(sessions, "paw-proj.json"),
    JSON.stringify(receipt),
  );
  const publish = async (body: unknown) => {
    const res = await fetch(`${broker.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    assert.equal(res.status, 202);
  };
  await publish({
    type: "agent.intent",
    agent_id: "feat-a",
    payload: {
      files: ["src/a.ts", {
        path: "src/b.ts",
        regions: [{ kind: "function", name: "f" }],
      }],
      summary: "parser",
      valid_for_seconds: 600,
    },
  });
  await publish({
    type: "agent.intent",
    agent_id: "feat-b",
    payload: {
      files: [
        { path: "src/b.ts", regions: [{ kind: "function", name: "f" }] },
        "src/c.ts",
      ],
      summary: "cli",
      valid_for_seconds: 600,
    },
  });
  await publish({
    type: "agent.status",
    agent_id: "feat-a",
    payload: { status: "working", modified_files: [] },
  });
  await using c = await mcpClient(["--repo", r.repo], { env: r.env });
  const intents = (await c.call("get_intents")).intents;
  assert.deepEqual(
    intents.map((
      i: { branch_id: string; files: string[]; regions: string[][] },
    ) => [
      i.branch_id,
      i.files,
      i.regions,
    ]),
    [
      ["feat-a", ["src/a.ts", "src/b.ts"], [[], ["fn:f"]]],
      ["feat-b", ["src/b.ts", "src/c.ts"], [["fn:f"], []]],
    ],
  );
  assert.equal(
    (await c.call("get_intent", { branch_id: "feat/b" })).intent.summary,
    "cli",
  );
  const conflicts = (await c.call("get_conflicts")).conflicts;
  assert.equal(conflicts.length, 1);
  assert.deepEqual(
    { ...conflicts[0], detected_at: 0 },
    {
      shape: "forward",
      branches: ["feat-a", "feat-b"],
      files: ["src/b.ts [function f]"],
      detected_at: 0,
    },
  );
  const status = (await c.call("get_session_status")).session;
  assert.equal(status.name, "paw-proj");
  assert.equal(status.broker_url, `http://127.0.0.1:${port}`);
  assert.deepEqual(
    status.agents.map((
      a: { branch: string; status: string },
    ) => [a.branch, a.status]),
    [["feat/a", "working"], ["feat/b", "intent"]],
  );
  assert.deepEqual((await c.call("get_session_summary")).summary, {
    name: "paw-proj",
    status: "active",
    agent_count: 2,
    agents_by_status: { intent: 1, working: 1 },
  });
  // A stopped session keeps its snapshot but has no broker to read.
  await Deno.writeTextFile(
    join(sessions, "paw-proj.json"),
    JSON.stringify({ ...receipt, status: "stopped" }),
  );
  assert.deepEqual(await c.call("get_intents"), { intents: [] });
  assert.equal(
    (await c.call("get_session_status")).session.broker_url,
    undefined,
  );
});

Deno.test("git paw mcp writes only JSON-RPC frames on stdout, logs to stderr and --log-file, answers pending calls and exits 0 at stdin EOF", async () => {
  await using r = await mcpRepo();
  const logFile = join(r.path, "mcp.log");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "mcp", "--repo", r.repo, "--log-file", logFile],
    env: r.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  const frames = [
    {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "raw", version: "1" },
      },
    },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "get_session_status", arguments: {} },
    },
    {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "nope", arguments: {} },
    },
  ];
  const enc = new TextEncoder();
  for (const f of frames) await w.write(enc.encode(JSON.stringify(f) + "\n"));
  // Close at once: calls still running are answered before the exit.
  await w.close();
  const out = await new Response(child.stdout).text();
  const status = await child.status;
  const err = new TextDecoder().decode(
    (await new Response(child.stderr).arrayBuffer()) as ArrayBuffer,
  );
  assert.equal(status.code, 0, err);
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  // Answers may come in any order: sort them by request id.
  const parsed = lines.map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id);
  assert.ok(parsed.every((p) => p.jsonrpc === "2.0"), out);
  assert.deepEqual(
    parsed.map((p) => p.id),
    [1, 2, 3],
  );
  assert.deepEqual(parsed[1].result.structuredContent, { session: null });
  assert.match(parsed[2].error.message, /tool not found: nope/);
  assert.match(err, /git-paw mcp: serving/);
  assert.match(await Deno.readTextFile(logFile), /call get_session_status/);
});

Deno.test("git paw mcp outside a repository fails with an actionable message", async () => {
  await using r = await mcpRepo();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "mcp", "--repo", join(r.path, "data")],
    env: r.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.equal(new TextDecoder().decode(out.stdout), "");
  assert.match(
    new TextDecoder().decode(out.stderr),
    /MCP error: --repo path .* is not inside a git repository/,
  );
});
