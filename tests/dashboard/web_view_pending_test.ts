import assert from "node:assert/strict";
import {
  applyEntry,
  applyRoster,
  createDashboardState,
  dashboardView,
} from "../../lib/core/dashboard_model.ts";
import { WebView } from "../../lib/dashboard/web_view.ts";
import { startFakeBroker } from "./_fake_broker.ts";

Deno.test("WebView.snapshot() shows the same summaries when live entries overflow its pending list", async () => {
  const broker = await startFakeBroker({ session: "s" });
  const view = new WebView(broker, {
    stallThresholdSeconds: 300,
    maxMessages: 5,
  });
  await view.start();
  try {
    const say = (id: string, message: string) =>
      broker.publish({
        type: "agent.status",
        agent_id: id,
        payload: { status: "working", modified_files: [], message },
      });
    // One agent speaks only early: its summary comes from an entry that
    // leaves the pending list long before the snapshot (2,048 held).
    await say("feat-early", "early note");
    await say("feat-a", "a first");
    for (let i = 0; i < 5000; i++) {
      await say(i % 3 === 0 ? "feat-a" : "feat-b", `step ${i}`);
    }
    await say("feat-late", "late note");
    const now = Date.now() / 1000;
    const got = view.snapshot().agents.map((a) => [a.id, a.summary]);

    // Reference: every entry applied one by one.
    const ref = createDashboardState({
      session: "s",
      url: broker.url,
      maxMessages: 5,
      logVisible: true,
    });
    for (const e of await broker.logSince(0, 100_000)) applyEntry(ref, e);
    applyRoster(ref, broker.agents(), now);
    const want = dashboardView(ref, now).agents.map((a) => [a.id, a.summary]);
    assert.equal(got.length, 4);
    assert.deepEqual(got, want);
    assert.match(
      String(got.find(([id]) => id === "feat-early")?.[1]),
      /early note/,
    );
    assert.match(String(got.find(([id]) => id === "feat-a")?.[1]), /step 4998/);
  } finally {
    await view.stop();
    await broker.close();
  }
});
