/**
 * `git-paw __cli-event` as a CLI's hook runs it: a real process in a real
 * linked worktree with a marker, the hook's JSON on stdin (or as Codex's
 * argument), publishing to a real HTTP broker; nothing on stdout, quick,
 * exit 0 when the broker is away, exit 1 (never 2) on an identity mismatch.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { hook, makeRig } from "./cli_event_fixture.ts";
import { startFakeBroker } from "../dashboard/_fake_broker.ts";
import type { StatusMessage } from "../../lib/core/messages.ts";

async function statuses(b: { logSince(n: number): Promise<unknown[]> }) {
  return (await b.logSince(0) as Array<{ message: StatusMessage }>)
    .map((e) => e.message);
}

const PRE = {
  hook_event_name: "PreToolUse",
  tool_name: "Bash",
  tool_input: { command: "mkdir -p build", description: "d" },
};

Deno.test("__cli-event publishes Claude's turn: working, needs_input naming the command, idle", async () => {
  const broker = await startFakeBroker();
  await using _b = { [Symbol.asyncDispose]: () => broker.close() };
  await using rig = await makeRig(broker.url);
  const claude = (event: string, data: unknown) =>
    hook(rig, ["--cli", "claude", "--event", event], data);

  let r = await claude("UserPromptSubmit", { prompt: "go" });
  assert.equal(r.code, 0, r.stderr);
  r = await claude("PreToolUse", PRE);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "", "PreToolUse: no output, no decision");
  const st = await Deno.stat(join(rig.gitDir, "paw-cli-state"));
  assert.equal((st.mode ?? 0) & 0o777, 0o600);
  r = await claude("PermissionRequest", PRE);
  assert.equal(r.code, 0, r.stderr);
  // Its notification says nothing more (PermissionRequest named the call).
  r = await claude("Notification", {
    notification_type: "permission_prompt",
    message: "Claude needs your permission",
  });
  assert.equal(r.code, 0, r.stderr);
  r = await claude("PostToolUse", PRE);
  r = await claude("Stop", { last_assistant_message: "Built." });
  assert.equal(r.code, 0, r.stderr);
  const got = (await statuses(broker)).map((m) =>
    m.type === "agent.status"
      ? [m.agent_id, m.payload.status, m.payload.message, m.payload.cli]
      : m.type
  );
  assert.deepEqual(got, [
    ["feat-a", "working", null, "claude"],
    ["feat-a", "needs_input", "Bash: mkdir -p build", "claude"],
    ["feat-a", "working", "Bash: mkdir -p build", "claude"],
    ["feat-a", "idle", "Built.", "claude"],
  ]);
  // A hook runs on every tool call: show what one costs.
  console.log(`__cli-event wall time (last run): ${r.ms.toFixed(0)} ms`);
});

Deno.test("__cli-event takes Codex's notify JSON as its argument", async () => {
  const broker = await startFakeBroker();
  await using _b = { [Symbol.asyncDispose]: () => broker.close() };
  await using rig = await makeRig(broker.url);
  const r = await hook(rig, [
    "--cli",
    "codex",
    "--event",
    "notify",
    JSON.stringify({
      type: "agent-turn-complete",
      "last-assistant-message": "Turn over",
    }),
  ], null);
  assert.equal(r.code, 0, r.stderr);
  const m = (await statuses(broker))[0];
  assert.equal(m?.type === "agent.status" && m.payload.status, "idle");
});

Deno.test("__cli-event refuses an environment that names another agent, publishing nothing", async () => {
  const broker = await startFakeBroker();
  await using _b = { [Symbol.asyncDispose]: () => broker.close() };
  await using rig = await makeRig(broker.url);
  const r = await hook(rig, ["--cli", "claude", "--event", "Stop"], {}, {
    GIT_PAW_AGENT_ID: "feat-b",
  });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /feat-b.*feat-a/);
  assert.equal((await statuses(broker)).length, 0);
  // A bad argv is exit 1 too: 2 would block Claude's tool call.
  const bad = await hook(rig, ["--cli", "claude"], {});
  assert.equal(bad.code, 1);
});

Deno.test("__cli-event exits 0 at once when the broker is away", async () => {
  // A port nothing listens on.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await using rig = await makeRig(`http://127.0.0.1:${port}`);
  const r = await hook(rig, ["--cli", "claude", "--event", "Stop"], {});
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.ok(r.ms < 5000, `took ${r.ms} ms`);
});

Deno.test("__cli-event: overlapping runs (background hooks) take turns, a stale run changes nothing, a dead run's lock is taken over", async () => {
  const broker = await startFakeBroker();
  await using _b = { [Symbol.asyncDispose]: () => broker.close() };
  await using rig = await makeRig(broker.url);
  const claude = (event: string, data: unknown) =>
    hook(rig, ["--cli", "claude", "--event", event], data);
  const statePath = join(rig.gitDir, "paw-cli-state");
  const lockPath = join(rig.gitDir, "paw-cli-state.lock");

  // Five prompt hooks at once: one read-step-write at a time, so exactly
  // one "working" (each run sees the last one's state).
  const runs = await Promise.all(
    [1, 2, 3, 4, 5].map(() => claude("UserPromptSubmit", { prompt: "go" })),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  let got = (await statuses(broker)).map((m) =>
    m.type === "agent.status" ? m.payload.status : m.type
  );
  assert.deepEqual(got, ["working"]);
  const state = JSON.parse(await Deno.readTextFile(statePath));
  assert.equal(typeof state.fired_at, "number", "the run's start is kept");
  await assert.rejects(Deno.stat(lockPath), Deno.errors.NotFound);

  // A run that started before the latest applied one (a background hook
  // that lost the race) publishes nothing and leaves the state alone.
  const future = JSON.stringify({ ...state, fired_at: state.fired_at + 1e9 });
  await Deno.writeTextFile(statePath, future);
  let r = await claude("Stop", { last_assistant_message: "Done." });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await statuses(broker)).length, 1);
  assert.equal(await Deno.readTextFile(statePath), future);

  // A lock left by a run that died is taken over at once.
  await Deno.writeTextFile(statePath, JSON.stringify(state));
  await Deno.writeTextFile(lockPath, "2147483646\n");
  r = await claude("Stop", { last_assistant_message: "Done." });
  assert.equal(r.code, 0, r.stderr);
  got = (await statuses(broker)).map((m) =>
    m.type === "agent.status" ? m.payload.status : m.type
  );
  assert.deepEqual(got, ["working", "idle"]);
  await assert.rejects(Deno.stat(lockPath), Deno.errors.NotFound);
});
