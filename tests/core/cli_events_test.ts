import assert from "node:assert/strict";
import {
  CLI_EVENT_SOURCE,
  cliStatusMessage,
  emptyCliEventState,
  mapCliEvent,
  parseCliEventState,
  saysNothingAboutFiles,
  stepCliEvent,
  toolLabel,
} from "../../lib/core/cli_events.ts";
import { parseMessage } from "../../lib/core/messages.ts";

const BASH = {
  hook_event_name: "PreToolUse",
  tool_name: "Bash",
  tool_input: { command: "mkdir -p build", description: "make it" },
  tool_use_id: "t1",
};

Deno.test("mapCliEvent() maps Claude Code's hook events", () => {
  assert.deepEqual(mapCliEvent("claude", "UserPromptSubmit", { prompt: "x" }), {
    status: "working",
    message: null,
  });
  assert.deepEqual(mapCliEvent("claude", "PreToolUse", BASH), {
    status: "working",
    message: "Bash: mkdir -p build",
  });
  assert.deepEqual(mapCliEvent("claude", "PermissionRequest", BASH), {
    status: "needs_input",
    message: "Bash: mkdir -p build",
  });
  // The permission prompt's notification leaves it to PermissionRequest
  // (which names the call); an MCP server's question still counts.
  assert.equal(
    mapCliEvent("claude", "Notification", {
      notification_type: "permission_prompt",
      message: "Claude needs your permission",
    }),
    null,
  );
  assert.deepEqual(
    mapCliEvent("claude", "Notification", {
      notification_type: "elicitation_dialog",
      message: "Server asks\nfor a token",
    }),
    { status: "needs_input", message: "Server asks for a token" },
  );
  assert.deepEqual(
    mapCliEvent("claude", "Notification", {
      notification_type: "idle_prompt",
      message: "Claude is waiting for your input",
    }),
    { status: "idle", message: "waiting for a prompt" },
  );
  assert.deepEqual(
    mapCliEvent("claude", "Stop", {
      stop_hook_active: false,
      last_assistant_message: "All done\nhere.",
    }),
    { status: "idle", message: "All done here." },
  );
  assert.equal(mapCliEvent("claude", "SessionStart", {}), null);
  assert.equal(
    mapCliEvent("claude", "Notification", { notification_type: "auth" }),
    null,
  );
  assert.equal(mapCliEvent("nosuchcli", "Stop", {}), null);
});

Deno.test("mapCliEvent() maps Gemini's hooks and Codex's notify", () => {
  assert.deepEqual(
    mapCliEvent("gemini", "Notification", {
      notification_type: "ToolPermission",
      message: "x",
      details: { type: "exec", command: "touch a", rootCommand: "touch" },
    }),
    { status: "needs_input", message: "Shell: touch a" },
  );
  assert.deepEqual(
    mapCliEvent("gemini", "AfterAgent", { prompt_response: "ok" }),
    { status: "idle", message: "ok" },
  );
  assert.deepEqual(
    mapCliEvent("codex", "notify", {
      type: "agent-turn-complete",
      "last-assistant-message": "Turn done",
    }),
    { status: "idle", message: "Turn done" },
  );
  assert.equal(mapCliEvent("codex", "notify", { type: "other" }), null);
});

Deno.test("mapCliEvent() maps Codex's hooks like Claude's, and names the screen's tools", () => {
  assert.deepEqual(
    mapCliEvent("codex", "PermissionRequest", {
      tool_name: "Bash",
      tool_input: { command: "touch /etc/escal-test-file" },
    }),
    { status: "needs_input", message: "Bash: touch /etc/escal-test-file" },
  );
  assert.deepEqual(mapCliEvent("codex", "Stop", {}), {
    status: "idle",
    message: null,
  });
  assert.deepEqual(
    mapCliEvent("gemini", "BeforeTool", {
      tool_name: "run_shell_command",
      tool_input: { command: "touch touched-here" },
    }),
    { status: "working", message: "Shell: touch touched-here" },
  );
});

Deno.test("toolLabel() names the call on one bounded line", () => {
  assert.equal(toolLabel("Write", { file_path: "a.ts" }), "Write: a.ts");
  assert.equal(toolLabel("Task", {}), "Task");
  const long = toolLabel("Bash", { command: "echo " + "x".repeat(500) });
  assert.equal(long.length, 300);
  assert.ok(long.endsWith("…"));
  assert.equal(toolLabel("Bash", { command: "a\n\x1b[2Jb" }), "Bash: a [2Jb");
});

Deno.test("stepCliEvent() quotes the pending tool when the permission notification comes", async (t) => {
  let s = emptyCliEventState("claude");
  await t.step("prompt submitted: working", () => {
    const r = stepCliEvent(
      s,
      "UserPromptSubmit",
      mapCliEvent("claude", "UserPromptSubmit", {}),
      1,
    );
    assert.deepEqual(r.publish, { status: "working", message: null });
    s = r.state;
  });
  await t.step("tool starts: pending noted, working not repeated", () => {
    const r = stepCliEvent(
      s,
      "PreToolUse",
      mapCliEvent("claude", "PreToolUse", BASH),
      2,
    );
    assert.equal(r.publish, null);
    assert.deepEqual(r.state.pending, { label: "Bash: mkdir -p build", at: 2 });
    assert.ok(r.changed);
    s = r.state;
  });
  const note = mapCliEvent("claude", "PermissionRequest", BASH);
  await t.step(
    "permission request: needs_input naming the command",
    () => {
      const r = stepCliEvent(s, "PermissionRequest", note, 3);
      assert.deepEqual(r.publish, {
        status: "needs_input",
        message: "Bash: mkdir -p build",
      });
      s = r.state;
    },
  );
  await t.step("the same request again publishes nothing", () => {
    assert.equal(stepCliEvent(s, "PermissionRequest", note, 4).publish, null);
  });
  await t.step("tool done: working again, pending cleared", () => {
    const r = stepCliEvent(
      s,
      "PostToolUse",
      mapCliEvent("claude", "PostToolUse", BASH),
      5,
    );
    assert.deepEqual(r.publish, {
      status: "working",
      message: "Bash: mkdir -p build",
    });
    assert.equal(r.state.pending, null);
    s = r.state;
  });
  await t.step("turn ends: idle", () => {
    const r = stepCliEvent(s, "Stop", mapCliEvent("claude", "Stop", {}), 6);
    assert.deepEqual(r.publish, { status: "idle", message: null });
    s = r.state;
  });
  await t.step("the idle reminder after the turn publishes nothing", () => {
    const r = stepCliEvent(
      s,
      "Notification",
      mapCliEvent("claude", "Notification", {
        notification_type: "idle_prompt",
      }),
      7,
    );
    assert.equal(r.publish, null);
  });
  await t.step("the state survives its file", () => {
    assert.deepEqual(parseCliEventState(JSON.stringify(s), "claude"), s);
    assert.deepEqual(
      parseCliEventState("garbage", "claude"),
      emptyCliEventState("claude"),
    );
  });
});

Deno.test("cliStatusMessage() is a valid agent.status that says nothing about files", () => {
  const m = cliStatusMessage("feat-a", "claude", {
    status: "needs_input",
    message: "Bash: ls",
  }, { source: CLI_EVENT_SOURCE, event: "Notification" });
  const r = parseMessage(m);
  assert.ok(r.ok);
  assert.equal(r.message.type, "agent.status");
  if (r.message.type !== "agent.status") return;
  assert.deepEqual(r.message.payload.modified_files, []);
  assert.ok(saysNothingAboutFiles(r.message.payload.detail));
  assert.ok(!saysNothingAboutFiles(undefined));
});

Deno.test("stepCliEvent() with firedAt: a run started before the latest applied one changes nothing", () => {
  const up = mapCliEvent("claude", "UserPromptSubmit", {});
  const stop = mapCliEvent("claude", "Stop", {});
  // The turn's Stop (started at tick 20) was applied first…
  const a = stepCliEvent(emptyCliEventState("claude"), "Stop", stop, 1, 20);
  assert.deepEqual(a.publish, { status: "idle", message: null });
  assert.equal(a.state.fired_at, 20);
  // …its UserPromptSubmit (tick 10) lost the race: not "working" again.
  const b = stepCliEvent(a.state, "UserPromptSubmit", up, 2, 10);
  assert.equal(b.publish, null);
  assert.equal(b.changed, false);
  assert.deepEqual(b.state, a.state);
  // Same tick: applied in arrival order.
  const c = stepCliEvent(a.state, "UserPromptSubmit", up, 3, 20);
  assert.deepEqual(c.publish, { status: "working", message: null });
  // A later run is applied and remembered, even when it publishes nothing.
  const d = stepCliEvent(c.state, "UserPromptSubmit", up, 4, 30);
  assert.equal(d.publish, null);
  assert.ok(d.changed);
  assert.equal(d.state.fired_at, 30);
  // Unknown start time: no ordering (as before).
  const e = stepCliEvent(d.state, "Stop", stop, 5, null);
  assert.deepEqual(e.publish, { status: "idle", message: null });
  assert.equal(e.state.fired_at, 30);
  // The clock survives the state file; a garbled one is dropped.
  assert.equal(
    parseCliEventState(JSON.stringify(d.state), "claude").fired_at,
    30,
  );
  assert.equal(
    parseCliEventState(JSON.stringify({ ...d.state, fired_at: "x" }), "claude")
      .fired_at,
    undefined,
  );
});
