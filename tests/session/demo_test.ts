import assert from "node:assert/strict";
import { join } from "node:path";
import type { Broker, LogEntry } from "../../lib/broker/api.ts";
import { createWorktree } from "../../lib/adapters/git.ts";
import { worktreePathFor } from "../../lib/core/agent_plan.ts";
import { makeRepo, sh } from "./git_fixture.ts";
import { pawArgs } from "../_helpers/paw_command.ts";
import { testBroker } from "../_helpers/broker.ts";

const FAKE_AGENT =
  new URL("../../fixtures/fake_agent.sh", import.meta.url).pathname;
const enc = new TextEncoder();

/** Resolve with the first log entry matching `pred` (already logged or coming). */
async function waitForEntry(
  broker: Broker,
  pred: (e: LogEntry) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<LogEntry> {
  const { promise, resolve, reject } = Promise.withResolvers<LogEntry>();
  const unsub = broker.subscribe((ev) => {
    if (ev.kind === "entry" && pred(ev.entry)) resolve(ev.entry);
  });
  const timer = setTimeout(
    () => reject(new Error(`timed out waiting for ${what}`)),
    timeoutMs,
  );
  try {
    const hit = (await broker.logSince(0)).find(pred);
    if (hit) return hit;
    return await promise;
  } finally {
    clearTimeout(timer);
    unsub();
  }
}

type Child = {
  proc: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  output: Promise<{ code: number; stdout: string; stderr: string }>;
};

function spawn(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Child {
  const proc = new Deno.Command(cmd, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = proc.stdin.getWriter();
  const dec = new TextDecoder();
  const output = proc.output().then((o) => ({
    code: o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  }));
  return { proc, writer, output };
}

function isType(e: LogEntry, type: string, agent: string): boolean {
  return e.message.type === type && "agent_id" in e.message &&
    e.message.agent_id === agent;
}

async function setup(branch: string, agentId: string) {
  const r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", branch);
  await createWorktree(r.repo, { branch, path });
  const broker = await testBroker({
    dataDir: join(r.path, "data"),
    session: "paw-proj",
    seed: [{ agent_id: agentId, worktree_path: path, cli: "demo" }],
  });
  return { r, path, broker };
}

Deno.test("__demo-agent publishes, edits, commits and answers its inbox through a real broker", async () => {
  const { r, path, broker } = await setup("demo/a", "demo-a");
  await using _r = r;
  try {
    const child = spawn(
      Deno.execPath(),
      pawArgs(["__demo-agent", "## BOOT INSTRUCTIONS\nline 2"]),
      path,
      { GIT_PAW_AGENT_ID: "demo-a", GIT_PAW_BROKER_URL: broker.url },
    );
    await waitForEntry(
      broker,
      (e) => isType(e, "agent.status", "demo-a"),
      "status",
    );
    const intent = await waitForEntry(
      broker,
      (e) => isType(e, "agent.intent", "demo-a"),
      "intent",
    );
    assert.deepEqual(
      intent.message.type === "agent.intent"
        ? intent.message.payload.files
        : null,
      ["DEMO-demo-a.md"],
    );
    await waitForEntry(
      broker,
      (e) =>
        isType(e, "agent.artifact", "demo-a") &&
        e.message.type === "agent.artifact" &&
        e.message.payload.status === "committed",
      "artifact",
    );
    assert.equal(
      await sh(path, "log", "-1", "--format=%s"),
      "demo(demo-a): initial demo edit",
    );

    // A message in its inbox is printed and acknowledged with a status.
    const pub = await broker.publish({
      type: "agent.feedback",
      agent_id: "demo-a",
      payload: { from: "reviewer", errors: ["please add tests"] },
    });
    assert.equal(pub.ok, true);
    await waitForEntry(
      broker,
      (e) =>
        isType(e, "agent.status", "demo-a") &&
        e.message.type === "agent.status" &&
        e.message.payload.message === "ack agent.feedback from reviewer",
      "ack",
    );
    // ... and acted on: the feedback becomes a task of its own.
    await waitForEntry(
      broker,
      (e) =>
        isType(e, "agent.intent", "demo-a") &&
        e.message.type === "agent.intent" &&
        e.message.payload.summary ===
          "address feedback from reviewer: please add tests",
      "feedback task",
    );

    // A stdin line is a task: appended and committed.
    await child.writer.write(enc.encode("add a changelog entry\n"));
    await waitForEntry(
      broker,
      (e) =>
        isType(e, "agent.intent", "demo-a") &&
        e.message.type === "agent.intent" &&
        e.message.payload.summary === "add a changelog entry",
      "second intent",
    );
    await child.writer.write(enc.encode("exit\n"));
    await child.writer.close();
    const out = await child.output;
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /first prompt \(2 lines\): ## BOOT INSTRUCTIONS/);
    assert.match(
      out.stdout,
      /<- agent\.feedback from reviewer: please add tests/,
    );
    assert.match(out.stdout, /\[demo\] bye/);
    assert.equal(
      await sh(path, "log", "-1", "--format=%s"),
      "demo(demo-a): add a changelog entry",
    );
    assert.equal(
      await Deno.readTextFile(join(path, "DEMO-demo-a.md")),
      "# Demo work by demo-a\n\n- initial demo edit\n" +
        "- address feedback from reviewer: please add tests\n" +
        "- add a changelog entry\n",
    );
    assert.equal(await sh(path, "status", "--porcelain"), "");
    const artifacts = (await broker.logSince(0)).filter((e) =>
      isType(e, "agent.artifact", "demo-a")
    );
    assert.equal(artifacts.length, 3);
  } finally {
    await broker.close();
  }
});

Deno.test("__demo-agent works with the broker off and exits on end of input", async () => {
  await using r = await makeRepo();
  const path = worktreePathFor(r.repo, "proj", "demo/b");
  await createWorktree(r.repo, { branch: "demo/b", path });
  const env: Record<string, string> = {
    GIT_PAW_AGENT_ID: "demo-b",
    GIT_PAW_BROKER_URL: "",
  };
  const child = spawn(
    Deno.execPath(),
    pawArgs(["__demo-agent"]),
    path,
    env,
  );
  await child.writer.write(enc.encode("one\n\ntwo"));
  await child.writer.close();
  const out = await child.output;
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /broker: off/);
  assert.equal(await sh(path, "rev-list", "--count", "main..demo/b"), "3");
});

Deno.test("__demo-agent outside a git worktree fails and writes nothing", async () => {
  await using r = await makeRepo();
  const outside = join(r.path, "plain");
  await Deno.mkdir(outside);
  const child = spawn(
    Deno.execPath(),
    pawArgs(["__demo-agent"]),
    outside,
    {
      GIT_CEILING_DIRECTORIES: r.path,
    },
  );
  await child.writer.close();
  const out = await child.output;
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /error: the demo agent must run inside a git worktree/,
  );
  assert.deepEqual([...Deno.readDirSync(outside)], []);
});

Deno.test("fixtures/fake_agent.sh publishes and commits through a real broker", async () => {
  const { r, path, broker } = await setup("feat/fake", "feat-fake");
  await using _r = r;
  try {
    const child = spawn("bash", [FAKE_AGENT, "## BOOT"], path, {
      GIT_PAW_AGENT_ID: "feat-fake",
      GIT_PAW_BROKER_URL: broker.url,
    });
    const first = await waitForEntry(
      broker,
      (e) => isType(e, "agent.artifact", "feat-fake"),
      "artifact",
    );
    await broker.publish({
      type: "agent.feedback",
      agent_id: "feat-fake",
      payload: { from: "reviewer", errors: ["hello"] },
    });
    await child.writer.write(enc.encode("second task\n"));
    await waitForEntry(
      broker,
      (e) => isType(e, "agent.artifact", "feat-fake") && e.seq > first.seq,
      "second artifact",
    );
    await child.writer.write(enc.encode("exit\n"));
    await child.writer.close();
    const out = await child.output;
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /fake-agent id=feat-fake url=http:\/\/127\.0\.0\.1:\d+/,
    );
    assert.match(out.stdout, /fake-agent prompt: ## BOOT/);
    assert.match(
      out.stdout,
      /fake-agent inbox: .*"hello"/,
    );
    assert.equal(await sh(path, "rev-list", "--count", "main..feat/fake"), "2");
    assert.equal(await sh(path, "status", "--porcelain"), "");
  } finally {
    await broker.close();
  }
});
