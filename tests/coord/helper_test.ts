import assert from "node:assert/strict";
import { join } from "node:path";
import type { BrokerMessage } from "../../lib/core/messages.ts";
import {
  deadUrl,
  git,
  run,
  SELF,
  tempBroker,
  tempRepo,
} from "./hooks_fixture.ts";

type Broker = Awaited<ReturnType<typeof tempBroker>>;

/** Run `git-paw <args>` as an agent pane would. */
function paw(
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
) {
  return run(SELF[0], [...SELF.slice(1), ...args], opts.cwd, {
    GIT_PAW_AGENT_ID: "",
    GIT_PAW_BROKER_URL: "",
    ...opts.env,
  });
}

function agentEnv(b: Broker, id = "feat/helper") {
  return { GIT_PAW_AGENT_ID: id, GIT_PAW_BROKER_URL: b.url };
}

/** The stored messages, without the client `msg_id` every helper sends. */
async function messages(b: Broker): Promise<BrokerMessage[]> {
  return (await b.logSince(0)).map((e) => {
    assert.match(String(e.message.msg_id), /^[0-9a-f-]{36}$/, "a msg_id");
    const { msg_id: _id, ...rest } = e.message;
    return rest as BrokerMessage;
  });
}

function assertOneLineError(r: { stderr: string; stdout: string }) {
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0].startsWith("error: "), r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

Deno.test("publish status sends a validated agent.status from the pane's env", async () => {
  await using b = await tempBroker();
  await using t = await tempRepo();
  const r = await paw(
    [
      "publish",
      "status",
      "working",
      "--message",
      "parsing",
      "--files",
      "a.ts,b.ts",
      "--files",
      "c.ts",
    ],
    { cwd: t.repo, env: agentEnv(b) },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^published agent\.status as feat-helper/);
  assert.deepEqual(await messages(b), [{
    type: "agent.status",
    agent_id: "feat-helper",
    payload: {
      status: "working",
      modified_files: ["a.ts", "b.ts", "c.ts"],
      message: "parsing",
      cli: null,
      phase: null,
    },
  }]);
});

Deno.test("publish intent/blocked/question/verified/feedback/artifact and done build the wire messages", async () => {
  await using b = await tempBroker();
  await using t = await tempRepo();
  const env = agentEnv(b);
  const calls = [
    [
      "publish",
      "intent",
      "--files",
      "src/a.ts,src/b.ts",
      "--region",
      "src/a.ts:function:parse",
      "--region",
      "src/c.ts:range:10-40",
      "--summary",
      "parser work",
      "--ttl",
      "300",
    ],
    [
      "publish",
      "blocked",
      "--needs",
      "the token types",
      "--from",
      "feat/lexer",
    ],
    ["publish", "question", "Should", "errors", "be", "typed?"],
    ["publish", "verified", "feat-lexer", "--message", "looks good"],
    [
      "publish",
      "feedback",
      "feat-lexer",
      "--error",
      "test a fails",
      "--error",
      "lint: unused x",
    ],
    [
      "publish",
      "artifact",
      "ready",
      "--exports",
      "parse,Parser",
      "--files",
      "src/a.ts",
    ],
    ["done", "--message", "parser finished"],
  ];
  for (const args of calls) {
    const r = await paw(args, { cwd: t.repo, env });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
  const got = await messages(b);
  assert.deepEqual(got.map((m) => m.type), [
    "agent.intent",
    "agent.blocked",
    "agent.question",
    "agent.verified",
    "agent.feedback",
    "agent.artifact",
    "agent.status",
    "agent.artifact",
  ]);
  assert.deepEqual(got[0], {
    type: "agent.intent",
    agent_id: "feat-helper",
    payload: {
      files: [
        "src/b.ts",
        { path: "src/a.ts", regions: [{ kind: "function", name: "parse" }] },
        {
          path: "src/c.ts",
          regions: [{ kind: "range", start_line: 10, end_line: 40 }],
        },
      ],
      summary: "parser work",
      valid_for_seconds: 300,
    },
  });
  assert.deepEqual(got[1].type === "agent.blocked" && got[1].payload, {
    needs: "the token types",
    from: "feat-lexer",
  });
  assert.deepEqual(got[2].type === "agent.question" && got[2].payload, {
    question: "Should errors be typed?",
  });
  assert.deepEqual(got[3], {
    type: "agent.verified",
    agent_id: "feat-lexer",
    payload: { verified_by: "feat-helper", message: "looks good" },
  });
  assert.deepEqual(got[4], {
    type: "agent.feedback",
    agent_id: "feat-lexer",
    payload: {
      from: "feat-helper",
      errors: ["test a fails", "lint: unused x"],
    },
  });
  assert.deepEqual(got[5].type === "agent.artifact" && got[5].payload, {
    status: "ready",
    exports: ["parse", "Parser"],
    modified_files: ["src/a.ts"],
  });
  assert.equal(
    got[6].type === "agent.status" && got[6].payload.message,
    "parser finished",
  );
  assert.deepEqual(got[7].type === "agent.artifact" && got[7].payload, {
    status: "done",
    exports: [],
    modified_files: [],
  });
});

Deno.test("inbox prints only new messages and keeps its cursor in the worktree's git dir", async () => {
  await using b = await tempBroker();
  await using t = await tempRepo();
  await git(
    t.repo,
    "worktree",
    "add",
    "-q",
    join(t.root, "wt"),
    "-b",
    "feat/helper",
  );
  const wt = join(t.root, "wt");
  const env = agentEnv(b);
  assert.equal(
    (await paw(["publish", "status", "working"], { cwd: wt, env })).code,
    0,
  );
  await b.publish({
    type: "agent.feedback",
    agent_id: "feat-helper",
    payload: { from: "supervisor", errors: ["fix the tests", "and the docs"] },
  });
  const first = await paw(["inbox"], { cwd: wt, env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stdout,
    /^#\d+ \[feat-helper\] feedback from supervisor: 2 errors\n {4}- fix the tests\n {4}- and the docs\n$/,
  );
  const again = await paw(["inbox"], { cwd: wt, env });
  assert.equal(again.stdout, "");
  assert.match(again.stderr, /no new messages for feat-helper/);
  const cursorFile = join(
    t.repo,
    ".git",
    "worktrees",
    "wt",
    "paw-inbox-cursor",
  );
  assert.ok((await Deno.readTextFile(cursorFile)).includes("feat-helper"));
  await b.publish({
    type: "agent.artifact",
    agent_id: "feat-other",
    payload: { status: "committed", exports: [], modified_files: ["x.ts"] },
  });
  const json = await paw(["inbox", "--json"], { cwd: wt, env });
  assert.equal(json.code, 0, json.stderr);
  const page = JSON.parse(json.stdout);
  assert.equal(page.agent_id, "feat-helper");
  assert.equal(page.messages.length, 1);
  assert.equal(page.messages[0].type, "agent.artifact");
  assert.equal(page.messages[0].agent_id, "feat-other");
  assert.equal(page.last_seq, b.lastSeq());
  const all = await paw(["inbox", "--all", "--peek"], { cwd: wt, env });
  assert.equal(
    all.stdout.split("\n").filter((l) => l.startsWith("#")).length,
    2,
  );
});

Deno.test("inbox --wait returns as soon as a message arrives", async () => {
  await using b = await tempBroker();
  await using t = await tempRepo();
  const env = agentEnv(b);
  assert.equal(
    (await paw(["publish", "status", "working"], { cwd: t.repo, env })).code,
    0,
  );
  // Move the cursor past the status, then park a long poll.
  assert.equal((await paw(["inbox"], { cwd: t.repo, env })).code, 0);
  const waiting = paw(["inbox", "--wait", "30"], { cwd: t.repo, env });
  // The broker has no "poll parked" event to wait for; give the child time
  // to start and send its request. Without --wait it would already have
  // returned "no new messages" and the assertion below would fail.
  await new Promise((r) => setTimeout(r, 1500));
  await b.publish({
    type: "agent.verified",
    agent_id: "feat-helper",
    payload: { verified_by: "supervisor", message: "ok" },
  });
  const r = await waiting;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[feat-helper\] verified by supervisor — ok/);
});

Deno.test("helper commands fail with one clear line when the env is missing", async () => {
  await using t = await tempRepo();
  const noAgent = await paw(["publish", "status", "working"], { cwd: t.repo });
  assert.equal(noAgent.code, 2);
  assertOneLineError(noAgent);
  assert.match(noAgent.stderr, /GIT_PAW_AGENT_ID is not set/);
  const noBroker = await paw(["inbox"], {
    cwd: t.repo,
    env: { GIT_PAW_AGENT_ID: "feat-a" },
  });
  assert.equal(noBroker.code, 2);
  assertOneLineError(noBroker);
  assert.match(noBroker.stderr, /GIT_PAW_BROKER_URL is not set/);
});

Deno.test("helper commands name the broker when it is unreachable", async () => {
  await using t = await tempRepo();
  const url = deadUrl();
  const env = { GIT_PAW_AGENT_ID: "feat-a", GIT_PAW_BROKER_URL: url };
  // Inside a git worktree a message waits in the outbox: exit 0, one note.
  for (const args of [["publish", "question", "hello?"], ["done"]]) {
    const r = await paw(args, { cwd: t.repo, env });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^note: broker at ${url} did not take it now; .* outbox`),
    );
  }
  // A read cannot wait; nor can anything outside a git worktree.
  const inbox = await paw(["inbox"], { cwd: t.repo, env });
  const dir = await Deno.makeTempDir({ prefix: "paw-coord-nogit-" });
  try {
    const outside = await paw(["publish", "question", "hello?"], {
      cwd: dir,
      env: { ...env, GIT_CEILING_DIRECTORIES: dir },
    });
    for (const r of [inbox, outside]) {
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `error: broker at ${url} is not reachable — is the session running? (git paw status)\n`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("helper commands reject invalid arguments before sending anything", async () => {
  await using b = await tempBroker();
  await using t = await tempRepo();
  const env = agentEnv(b);
  const cases: Array<[string[], RegExp]> = [
    [["publish", "intent", "--summary", "x"], /needs --files/],
    [["publish", "status", " "], /payload\.status must not be blank/],
    [["publish", "question", "<your question>"], /unfilled placeholder/],
    [
      ["publish", "intent", "--files", "a", "--summary", "x", "--ttl", "soon"],
      /--ttl must be a whole number/,
    ],
    [
      ["publish", "intent", "--region", "a.ts:method:x", "--summary", "x"],
      /invalid --region/,
    ],
    [
      ["publish", "feedback", "feat-b", "--error", "<what>"],
      /unfilled placeholder/,
    ],
    [["publish", "status", "working", "--agent", "feat a"], /invalid agent id/],
    [
      ["publish", "status", "working", "--broker", "ftp://x"],
      /invalid broker URL/,
    ],
    [["inbox", "--wait", "99"], /--wait must be between 0 and 60/],
    [["publish", "raw", "{not json"], /invalid JSON/],
  ];
  for (const [args, re] of cases) {
    const r = await paw(args, { cwd: t.repo, env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertOneLineError(r);
    assert.match(r.stderr, re, args.join(" "));
  }
  assert.deepEqual(await messages(b), [], "nothing was published");
});

Deno.test("helper commands print the broker's error for a 4xx answer", async () => {
  await using b = await tempBroker({ token: "s3cret" });
  await using t = await tempRepo();
  const env = agentEnv(b);
  const refused = await paw(["publish", "status", "working"], {
    cwd: t.repo,
    env,
  });
  assert.equal(refused.code, 1);
  assertOneLineError(refused);
  assert.match(
    refused.stderr,
    new RegExp(
      `broker at ${b.url} answered 401: missing or wrong bearer token`,
    ),
  );
  const ok = await paw(["publish", "status", "working"], {
    cwd: t.repo,
    env: { ...env, GIT_PAW_BROKER_TOKEN: "s3cret" },
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await messages(b)).length, 1);
});

Deno.test("publish raw validates and sends a hand-written message", async () => {
  await using b = await tempBroker();
  await using t = await tempRepo();
  const r = await paw(
    [
      "publish",
      "raw",
      '{"type":"agent.question","agent_id":"feat/raw","payload":{"question":"why?"}}',
    ],
    { cwd: t.repo, env: agentEnv(b) },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await messages(b), [{
    type: "agent.question",
    agent_id: "feat-raw",
    payload: { question: "why?" },
  }]);
});

Deno.test("inbox keeps its cursor under $XDG_STATE_HOME outside a git worktree", async () => {
  await using b = await tempBroker();
  const dir = await Deno.makeTempDir({ prefix: "paw-coord-nogit-" });
  try {
    const env = {
      ...agentEnv(b, "feat-solo"),
      XDG_STATE_HOME: join(dir, "state"),
      GIT_CEILING_DIRECTORIES: dir,
    };
    assert.equal(
      (await paw(["publish", "status", "working"], { cwd: dir, env })).code,
      0,
    );
    await b.publish({
      type: "agent.feedback",
      agent_id: "feat-solo",
      payload: { from: "supervisor", errors: ["one"] },
    });
    const first = await paw(["inbox"], { cwd: dir, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /feedback from supervisor/);
    const cursor = JSON.parse(
      await Deno.readTextFile(
        join(dir, "state", "git-paw", "inbox-cursor.json"),
      ),
    );
    assert.equal(cursor.cursors[`${b.url} feat-solo`], b.lastSeq());
    assert.equal((await paw(["inbox"], { cwd: dir, env })).stdout, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
