/**
 * The web page's Tell (`WebView.tell`) with the session's pane teller: typed
 * into the pane when the teller could (no feedback sent), otherwise one
 * `agent.feedback` from `web` that says why it was not typed. The pane side
 * (`git paw tell`'s route) runs for real in
 * tests/session/e2e_agents_tell_test.ts.
 */
import assert from "node:assert/strict";
import { WebView } from "../../lib/dashboard/web_view.ts";
import { testBroker } from "../_helpers/broker.ts";

async function feedbackTo(
  broker: { logSince(since: number): Promise<unknown[]> },
  agent: string,
) {
  const entries = await broker.logSince(0) as {
    message: {
      type: string;
      agent_id: string;
      payload: { from: string; errors: string[] };
    };
  }[];
  return entries.map((e) => e.message).filter((m) =>
    m.type === "agent.feedback" && m.agent_id === agent
  );
}

Deno.test("web Tell: typed when the pane teller could, else feedback from web with the reason", async () => {
  await using broker = await testBroker();
  for (const id of ["feat-a", "feat-b", "feat-c"]) {
    await broker.publish({
      type: "agent.status",
      agent_id: id,
      payload: { status: "working", modified_files: [] },
    });
  }
  const asked: string[] = [];
  const view = new WebView(broker, {
    stallThresholdSeconds: 300,
    maxMessages: 50,
    tellPane: (agent, text) => {
      asked.push(`${agent}:${text}`);
      if (agent === "feat-a") return Promise.resolve({ typed: true });
      if (agent === "feat-b") {
        return Promise.resolve({
          typed: false,
          why: "its pane waits at a permission prompt",
        });
      }
      return Promise.reject(new Error("tmux is gone"));
    },
  });
  await view.start();
  try {
    const a = await view.tell("feat-a", "  run the tests  ");
    assert.deepEqual(a, { ok: true, seq: null, route: "keys" });
    assert.deepEqual(await feedbackTo(broker, "feat-a"), []);

    const b = await view.tell("feat-b", "use port 8080");
    assert.ok(b.ok && typeof b.seq === "number");
    assert.equal(b.route, "feedback");
    assert.equal(b.why, "its pane waits at a permission prompt");
    const fb = await feedbackTo(broker, "feat-b");
    assert.deepEqual(fb.map((m) => [m.payload.from, m.payload.errors]), [
      ["web", ["use port 8080"]],
    ]);

    const c = await view.tell("feat-c", "hello");
    assert.ok(c.ok && c.route === "feedback");
    assert.match(c.why ?? "", /could not be typed into \(tmux is gone\)/);
    assert.equal((await feedbackTo(broker, "feat-c")).length, 1);

    // Unknown agents never reach the teller.
    const z = await view.tell("feat-zz", "hi");
    assert.equal(z.ok, false);
    assert.deepEqual(asked, [
      "feat-a:run the tests",
      "feat-b:use port 8080",
      "feat-c:hello",
    ]);
  } finally {
    await view.stop();
  }
});
