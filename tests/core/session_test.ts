/** The pure session model: smart-start table, status derivation. */
import assert from "node:assert/strict";
import {
  decideStart,
  displayStatus,
  effectiveStatus,
  parseReceipt,
  statusJson,
} from "../../lib/core/session.ts";

const receipt = {
  session_name: "paw-p",
  repo_path: "/r/p",
  project_name: "p",
  created_at: "2026-01-01T00:00:00Z",
  status: "active",
  worktrees: [{
    branch: "feat/a",
    worktree_path: "/r/p-feat-a",
    cli: "demo",
    branch_created: true,
  }],
  broker_port: 9200,
  broker_bind: "127.0.0.1",
};

Deno.test("decideStart() recovers a crashed session instead of purging it", () => {
  assert.deepEqual(decideStart(null, false), { kind: "fresh" });
  assert.deepEqual(decideStart({ status: "active" }, true), {
    kind: "reattach",
  });
  assert.deepEqual(decideStart({ status: "active" }, false), {
    kind: "recover",
    reason: "crashed",
  });
  assert.deepEqual(decideStart({ status: "paused" }, true), {
    kind: "restart-paused",
  });
  assert.deepEqual(decideStart({ status: "paused" }, false), {
    kind: "recover",
    reason: "paused-dead",
  });
  assert.deepEqual(decideStart({ status: "stopped" }, false), {
    kind: "recover",
    reason: "stopped",
  });
});

Deno.test("displayStatus() and effectiveStatus() follow tmux liveness", () => {
  assert.equal(displayStatus("active", "alive"), "active");
  assert.equal(displayStatus("active", "stale"), "stale");
  assert.equal(displayStatus("paused", "alive"), "paused");
  assert.equal(displayStatus("paused", "stale"), "stopped");
  assert.equal(displayStatus("stopped", "alive"), "stopped");
  assert.equal(effectiveStatus("active", "stale"), "stopped");
  assert.equal(effectiveStatus("paused", "alive"), "paused");
});

Deno.test("parseReceipt() accepts a receipt and names the bad field otherwise", () => {
  const ok = parseReceipt(receipt);
  assert.ok(ok.ok);
  assert.equal(ok.ok && ok.value.mode, "bare");
  const bad = parseReceipt({ ...receipt, status: "running" });
  assert.ok(!bad.ok);
  assert.match(!bad.ok ? bad.error : "", /^status:/);
  const bad2 = parseReceipt({ ...receipt, worktrees: [{ branch: "x" }] });
  assert.match(!bad2.ok ? bad2.error : "", /^worktrees\.0\./);
});

Deno.test("statusJson() is the documented status --json shape", () => {
  const r = parseReceipt(receipt);
  assert.ok(r.ok);
  assert.deepEqual(statusJson(r.ok ? r.value : null, "alive"), {
    session: "paw-p",
    status: "active",
    tmux_running: true,
    broker_url: "http://127.0.0.1:9200",
    mode: "bare",
    worktrees: [{
      branch: "feat/a",
      cli: "demo",
      worktree_path: "/r/p-feat-a",
    }],
  });
  assert.deepEqual(statusJson(null, "stale"), { session: null });
});
