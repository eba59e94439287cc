import assert from "node:assert/strict";
import type { LogEntry } from "../../lib/broker/api.ts";
import type { BrokerMessage } from "../../lib/core/messages.ts";
import {
  activeAlerts,
  alertsCheckStalls,
  alertsOnEntry,
  alertsOnRoster,
  alertText,
  createAlertsState,
  isTerminalStatus,
  nextStallDeadline,
} from "../../lib/core/dashboard_alerts.ts";
import { readDashboardSettings } from "../../lib/core/dashboard_settings.ts";
import {
  defaultConfig,
  mergeConfig,
  validateConfig,
} from "../../lib/core/config.ts";

const T0 = 1_750_000_000;
let seq = 0;
function e(message: unknown, ts: number): LogEntry {
  return {
    seq: ++seq,
    timestamp_unix_secs: ts,
    message: message as BrokerMessage,
  };
}
const blocked = (id: string, needs = "schema") => ({
  type: "agent.blocked",
  agent_id: id,
  payload: { needs, from: "feat-z" },
});
const question = (id: string, q = "which db?") => ({
  type: "agent.question",
  agent_id: id,
  payload: { question: q },
});
const status = (id: string, st = "working") => ({
  type: "agent.status",
  agent_id: id,
  payload: {
    status: st,
    modified_files: [],
    message: null,
    cli: null,
    phase: null,
  },
});

Deno.test("alertsOnEntry() fires once per blocked/question message, never twice for the same seq", () => {
  const s = createAlertsState(300);
  const b = e(blocked("feat-a"), T0);
  const fired = alertsOnEntry(s, b);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.reason, "blocked");
  assert.equal(fired[0]!.detail, "needs schema from feat-z");
  assert.deepEqual(alertsOnEntry(s, b), [], "same entry again: nothing");
  // A redraw-like re-check fires nothing either.
  assert.deepEqual(alertsCheckStalls(s, T0 + 1), []);
  // A new blocked message is a new cause.
  assert.equal(alertsOnEntry(s, e(blocked("feat-a", "db"), T0 + 2)).length, 1);
  const q = alertsOnEntry(s, e(question("feat-b"), T0 + 3));
  assert.equal(q.length, 1);
  assert.equal(alertText(q[0]!), "git-paw: feat-b asks — which db?");
});

Deno.test("alertsOnEntry() with fire:false marks attention without firing (history at start)", () => {
  const s = createAlertsState(300);
  assert.deepEqual(
    alertsOnEntry(s, e(question("feat-a"), T0), { fire: false }),
    [],
  );
  assert.deepEqual(activeAlerts(s).map((a) => a.reason), ["question"]);
});

Deno.test("attention clears when the agent publishes again; the newest need stays", () => {
  const s = createAlertsState(300);
  alertsOnEntry(s, e(blocked("feat-a"), T0));
  alertsOnEntry(s, e(question("feat-a"), T0 + 1));
  assert.deepEqual(activeAlerts(s).map((a) => a.reason), ["question"]);
  alertsOnEntry(s, e(status("feat-a"), T0 + 2));
  assert.deepEqual(activeAlerts(s), []);
});

Deno.test("a stall fires once per silence and again only after the agent spoke", () => {
  const s = createAlertsState(300);
  alertsOnEntry(s, e(status("feat-a"), T0));
  assert.equal(nextStallDeadline(s), T0 + 300);
  assert.deepEqual(alertsCheckStalls(s, T0 + 299), []);
  const st = alertsCheckStalls(s, T0 + 300);
  assert.equal(st.length, 1);
  assert.equal(st[0]!.reason, "stalled");
  assert.equal(st[0]!.detail, "silent for 5m (status working)");
  assert.equal(nextStallDeadline(s), null, "no timer needed until it speaks");
  for (let t = 301; t < 5000; t += 250) {
    assert.deepEqual(alertsCheckStalls(s, T0 + t), [], `refired at +${t}`);
  }
  assert.deepEqual(activeAlerts(s).map((a) => a.reason), ["stalled"]);
  alertsOnEntry(s, e(status("feat-a"), T0 + 5000));
  assert.deepEqual(activeAlerts(s), [], "speaking clears the stall");
  assert.equal(nextStallDeadline(s), T0 + 5300);
  assert.equal(
    alertsCheckStalls(s, T0 + 5300).length,
    1,
    "a new silence is a new cause",
  );
});

Deno.test("terminal statuses never stall; blocked does (once)", () => {
  for (const st of ["done", "verified", "committed", "merged", "DONE"]) {
    assert.ok(isTerminalStatus(st), st);
    const s = createAlertsState(10);
    alertsOnEntry(s, e(status("feat-a", st), T0));
    assert.equal(nextStallDeadline(s), null);
    assert.deepEqual(alertsCheckStalls(s, T0 + 1000), []);
  }
  assert.ok(!isTerminalStatus("blocked"));
  const s = createAlertsState(10);
  alertsOnEntry(s, e(blocked("feat-a"), T0));
  assert.equal(alertsCheckStalls(s, T0 + 10).length, 1);
  assert.deepEqual(alertsCheckStalls(s, T0 + 20), []);
});

Deno.test("alertsOnRoster() learns silent agents, and whole-second jitter does not refire", () => {
  const s = createAlertsState(60);
  alertsOnRoster(s, [{
    agent_id: "feat-a",
    cli: "c",
    status: "working",
    last_seen_seconds: 50,
    summary: "",
  }], T0);
  assert.equal(nextStallDeadline(s), T0 + 10);
  assert.equal(alertsCheckStalls(s, T0 + 10).length, 1);
  // Later snapshots: last_seen_seconds is truncated, so "seen" wobbles < 1 s.
  for (let dt = 11; dt < 200; dt += 0.7) {
    const lss = Math.floor(dt + 50);
    alertsOnRoster(s, [{
      agent_id: "feat-a",
      cli: "c",
      status: "working",
      last_seen_seconds: lss,
      summary: "",
    }], T0 + dt);
    assert.deepEqual(alertsCheckStalls(s, T0 + dt), [], `refired at ${dt}`);
  }
  // The agent turns terminal: the stall item goes away.
  alertsOnRoster(s, [{
    agent_id: "feat-a",
    cli: "c",
    status: "done",
    last_seen_seconds: 300,
    summary: "",
  }], T0 + 250);
  assert.deepEqual(activeAlerts(s), []);
});

Deno.test("hostile text in alerts is sanitised", () => {
  const s = createAlertsState(300);
  const [a] = alertsOnEntry(
    s,
    e(question("feat-a", "x\x1b]0;pwn\x07\u202e #(rm)"), T0),
  );
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(alertText(a!), /[\u0000-\u001f\u202e]/);
});

Deno.test("readDashboardSettings() reads [notify]/[dashboard.broker_log] of the resolved config", () => {
  assert.deepEqual(readDashboardSettings(defaultConfig()), {
    maxMessages: 500,
    logVisible: true,
    bell: true,
    notifyCommand: null,
    stallThresholdSeconds: 300,
  });
  const s = readDashboardSettings(mergeConfig({}, {
    dashboard: { broker_log: { max_messages: 20, default_visible: false } },
    notify: {
      command: ["notify-send", "git-paw"],
      bell: false,
      stall_threshold_seconds: 45,
    },
  }));
  assert.deepEqual(s, {
    maxMessages: 20,
    logVisible: false,
    bell: false,
    notifyCommand: ["notify-send", "git-paw"],
    stallThresholdSeconds: 45,
  });
  // Malformed values never reach it: the config schema refuses them.
  for (
    const bad of [
      { notify: { command: "rm -rf /" } },
      { notify: { stall_threshold_seconds: -1 } },
      { dashboard: 3 },
    ]
  ) assert.equal(validateConfig(bad, "/c.toml").ok, false, JSON.stringify(bad));
});

const waiting = (id: string, message: string, source = "screen") => ({
  type: "agent.status",
  agent_id: id,
  payload: {
    status: "needs_input",
    modified_files: [],
    message,
    cli: "claude",
    detail: { source },
  },
});

Deno.test("alertsOnEntry() fires needs_input once per agent and what it waits for", async (t) => {
  const s = createAlertsState(300);
  await t.step("the screen detector's status fires, naming the command", () => {
    const fired = alertsOnEntry(
      s,
      e(waiting("feat-a", "Bash: mkdir -p build"), T0),
    );
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.reason, "needs_input");
    assert.equal(fired[0]!.detail, "Bash: mkdir -p build");
    assert.equal(
      alertText(fired[0]!),
      "git-paw: feat-a waits for you — Bash: mkdir -p build",
    );
  });
  await t.step(
    "the hook's later status for the same prompt fires nothing",
    () => {
      assert.deepEqual(
        alertsOnEntry(
          s,
          e(waiting("feat-a", "Bash: mkdir -p build", "cli_event"), T0 + 6),
        ),
        [],
      );
      assert.equal(activeAlerts(s).length, 1);
      assert.equal(
        activeAlerts(s)[0]!.since,
        T0,
        "the item keeps its cause time",
      );
    },
  );
  await t.step("a watcher file report keeps the item and fires nothing", () => {
    assert.deepEqual(alertsOnEntry(s, e(status("feat-a"), T0 + 7)), []);
    assert.equal(activeAlerts(s)[0]?.reason, "needs_input");
  });
  await t.step("another agent waiting for the same is its own cause", () => {
    assert.equal(
      alertsOnEntry(s, e(waiting("feat-b", "Bash: mkdir -p build"), T0 + 8))
        .length,
      1,
    );
  });
  await t.step("a different prompt of the same agent is a new cause", () => {
    const fired = alertsOnEntry(
      s,
      e(waiting("feat-a", "Bash: rm -rf out"), T0 + 9),
    );
    assert.equal(fired.length, 1);
    assert.equal(
      activeAlerts(s).filter((a) => a.agent_id === "feat-a").length,
      1,
    );
  });
  await t.step("going on clears it; the same prompt later fires again", () => {
    const going = {
      ...waiting("feat-a", "Bash: rm -rf out"),
      payload: { ...waiting("feat-a", "x").payload, status: "working" },
    };
    assert.deepEqual(alertsOnEntry(s, e(going, T0 + 10)), []);
    assert.ok(!activeAlerts(s).some((a) => a.agent_id === "feat-a"));
    assert.equal(
      alertsOnEntry(s, e(waiting("feat-a", "Bash: rm -rf out"), T0 + 11))
        .length,
      1,
    );
  });
  await t.step("an agent waiting for a person does not also stall", () => {
    assert.ok(
      !alertsCheckStalls(s, T0 + 10_000).some((a) => a.agent_id === "feat-b"),
    );
  });
});
