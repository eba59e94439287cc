import assert from "node:assert/strict";
import {
  agentRows,
  applyRoster,
  createDashboardState,
  dashboardView,
} from "../../lib/core/dashboard_model.ts";
import { renderFrame } from "../../lib/dashboard/render.ts";
import { WebView } from "../../lib/dashboard/web_view.ts";
import type { Broker } from "../../lib/broker/api.ts";

const NOW = 1_750_760_000;
// deno-lint-ignore no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;

function withRoster() {
  const s = createDashboardState({
    session: "paw-demo",
    url: "http://127.0.0.1:9119",
    maxMessages: 50,
    logVisible: false,
  });
  applyRoster(s, [
    {
      agent_id: "feat-a",
      cli: "demo",
      status: "working",
      last_seen_seconds: 3,
      summary: "",
    },
    {
      agent_id: "feat-b",
      cli: "demo",
      status: "done",
      last_seen_seconds: 3,
      summary: "",
    },
  ], NOW);
  return s;
}

Deno.test("agentRows() carries each agent's PORT, empty without one", () => {
  const s = withRoster();
  s.ports = new Map([["feat-a", 20000]]);
  const rows = agentRows(s, NOW);
  assert.equal(rows.find((r) => r.id === "feat-a")!.port, "20000");
  assert.equal(rows.find((r) => r.id === "feat-b")!.port, "");
  assert.equal(dashboardView(s, NOW).agents[0]!.port, "20000");
});

Deno.test("renderFrame() shows an agent's PORT after its id", () => {
  const s = withRoster();
  s.ports = new Map([["feat-a", 20010]]);
  const text = renderFrame(s, {
    width: 120,
    height: 30,
    now: NOW,
    color: false,
  })
    .map((l) => l.replace(SGR, "")).join("\n");
  assert.match(text, /feat-a :20010/);
  assert.doesNotMatch(text, /feat-b :/);
});

Deno.test("WebView.snapshot() reads the agents' ports at each snapshot", () => {
  let ports = new Map<string, number>();
  const broker = {
    agents: () => [
      {
        agent_id: "feat-a",
        cli: "demo",
        status: "working",
        last_seen_seconds: NOW,
        summary: "",
      },
    ],
  } as unknown as Broker;
  const v = new WebView(broker, {
    session: "s",
    stallThresholdSeconds: 300,
    maxMessages: 10,
    now: () => NOW,
    agentPorts: () => ports,
  });
  assert.equal(v.snapshot().agents[0]!.port, "");
  ports = new Map([["feat-a", 20020]]);
  assert.equal(v.snapshot().agents[0]!.port, "20020");
});
