/**
 * Notifications once per cause across dashboard restarts: the causes sent
 * are kept in a file (the session's state dir); a restarted monitor sends
 * none of them again, sends what waits and was never sent, and a first
 * start counts the history as told.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "../../lib/broker/server.ts";
import type { Notice } from "../../lib/core/notify_throttle.ts";
import { AlertMonitor, fileSentStore } from "../../lib/dashboard/alerts.ts";

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.body?.cancel();
  assert.equal(res.status, 202);
}

async function waitFor(what: string, fn: () => boolean): Promise<void> {
  const end = Date.now() + 15_000;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const question = (id: string, q: string) => ({
  type: "agent.question",
  agent_id: id,
  payload: { question: q },
});

Deno.test("AlertMonitor with a file store sends each cause once across restarts", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "alerts-sent-" });
  const file = join(dir, "state", "notified.json");
  const broker = await startBroker({
    port: 0,
    dataDir: join(dir, "data"),
    session: "s",
    quiet: true,
  });
  const run = async (seen: Notice[], threshold = 300) => {
    const m = new AlertMonitor(broker, {
      settings: { stallThresholdSeconds: threshold, maxMessages: 100 },
      sinks: [(a) => void seen.push(a)],
      sent: fileSentStore(file),
    });
    await m.start();
    return m;
  };
  try {
    await t.step("first start: the history counts as told", async () => {
      await post(broker.url, question("feat-a", "old question?"));
      const seen: Notice[] = [];
      const m = await run(seen);
      await m.idle();
      assert.deepEqual(seen, []);
      assert.equal(m.active().length, 1, "still highlighted");
      await post(broker.url, question("feat-a", "first?"));
      await waitFor("the first question", () => seen.length === 1);
      await m.stop();
      const kept = JSON.parse(await Deno.readTextFile(file)).sent;
      assert.deepEqual(kept, ["question:feat-a:1", "question:feat-a:2"]);
    });
    await t.step(
      "restart: nothing sent twice, the missed cause goes out",
      async () => {
        // Asked while no dashboard watched.
        await post(broker.url, question("feat-b", "missed?"));
        const seen: Notice[] = [];
        const m = await run(seen);
        await m.idle();
        assert.deepEqual(seen.map((a) => [a.agent_id, a.detail]), [[
          "feat-b",
          "missed?",
        ]]);
        await m.stop();
      },
    );
    await t.step("restart again: nothing", async () => {
      const seen: Notice[] = [];
      const m = await run(seen);
      await m.idle();
      assert.deepEqual(seen, []);
      await m.stop();
    });
    await t.step(
      "a stall is sent once, not again after a restart while the silence lasts",
      async () => {
        await post(broker.url, {
          type: "agent.status",
          agent_id: "feat-c",
          payload: { status: "working", modified_files: [] },
        });
        const seen: Notice[] = [];
        const m = await run(seen, 1);
        await waitFor(
          "the stall",
          () => seen.some((a) => a.reason === "stalled"),
        );
        await m.stop();
        const again: Notice[] = [];
        // The stall is due at once: start() decides it before returning.
        const m2 = await run(again, 1);
        await m2.idle();
        assert.deepEqual(again.filter((a) => a.reason === "stalled"), []);
        await m2.stop();
      },
    );
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
});
