import assert from "node:assert/strict";
import { createDashboardState } from "../../lib/core/dashboard_model.ts";
import { integrationLine } from "../../lib/core/integration.ts";
import { renderFrame } from "../../lib/dashboard/render.ts";

Deno.test("renderFrame() shows the integration lane's line when there is one", () => {
  const state = createDashboardState({
    session: "s",
    url: "http://127.0.0.1:1",
    maxMessages: 10,
    logVisible: true,
  });
  const opts = { width: 100, height: 20, now: 0, color: false };
  assert.ok(!renderFrame(state, opts).some((l) => l.includes("integration")));
  state.integration = integrationLine({
    state: "failing",
    updated_at: "2026-01-01T00:00:00Z",
    base: "main",
    agents: [],
    union_tree: null,
    test_command: ["sh"],
    findings: [{ kind: "test", agents: ["a", "b"], files: [], lines: [] }],
    test_runs: 3,
    cache_hits: 0,
    superseded: 0,
    detail: null,
  });
  assert.ok(
    renderFrame(state, opts).some((l) => l.includes("integration: ✗ a+b fail")),
  );
});
