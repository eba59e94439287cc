import assert from "node:assert/strict";
import type { DashboardState } from "../../lib/core/dashboard_model.ts";
import { runDashboard } from "../../lib/dashboard/tui.ts";
import { ScreenWriter } from "../../lib/dashboard/terminal.ts";
import { createNullTerminal } from "../_helpers/null_terminal.ts";
import { defaultConfig, mergeConfig } from "../../lib/core/config.ts";
import { waitFor } from "../_helpers/wait.ts";
import { testBroker } from "../_helpers/broker.ts";

const status = (id: string, text: string) => ({
  type: "agent.status",
  agent_id: id,
  payload: { status: "working", modified_files: [], message: text },
});

Deno.test("runDashboard() coalesces a burst of publishes into few frames and quits on q", async () => {
  await using broker = await testBroker({ session: "s" });
  const term = createNullTerminal({ columns: 100, rows: 30 }, { color: false });
  let frames = 0;
  let last: DashboardState | null = null;
  const done = runDashboard(broker, { session: "s", config: defaultConfig() }, {
    terminal: term,
    frameDelayMs: 40,
    onFrame: (s) => {
      frames++;
      last = s;
    },
  });
  try {
    await waitFor("first frame", () => frames >= 1);
    assert.equal(term.entered, true);
    const before = frames;
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) => broker.publish(status(`feat-${i % 5}`, `m${i}`)),
      ),
    );
    await waitFor("50 entries shown", () => last!.panel.length === 50);
    await new Promise((r) => setTimeout(r, 100));
    // 50 events, far fewer frames (coalesced; a 1 s tick may add one).
    assert.ok(frames - before <= 6, `frames for a burst: ${frames - before}`);
    assert.equal(last!.roster.length, 5);
    term.type("j");
    await waitFor("selection moved", () => last!.selectedSeq !== null);
    term.type("q");
    await done;
    assert.equal(term.entered, false, "terminal restored");
  } finally {
    term.closeInput();
    await done.catch(() => {});
  }
});

Deno.test("runDashboard() loads history, ends on abort and restores the terminal", async () => {
  await using broker = await testBroker({ session: "s" });
  for (let i = 0; i < 5; i++) await broker.publish(status("feat-a", `old${i}`));
  const term = createNullTerminal({ columns: 80, rows: 24 }, { color: false });
  const ac = new AbortController();
  let last: DashboardState | null = null;
  const done = runDashboard(
    broker,
    {
      session: "s",
      config: mergeConfig({}, {
        dashboard: { broker_log: { max_messages: 3 } },
      }),
      signal: ac.signal,
    },
    { terminal: term, onFrame: (s) => void (last = s) },
  );
  try {
    await waitFor("history", () => last !== null && last.panel.length === 3);
    assert.deepEqual(last!.panel.map((p) => p.text), ["old2", "old3", "old4"]);
    term.setSize({ columns: 40, rows: 10 });
    ac.abort();
    await done;
    assert.equal(term.entered, false);
  } finally {
    ac.abort(); // a failed check still ends the dashboard
  }
});

Deno.test("ScreenWriter rewrites only changed lines and repaints on resize", () => {
  const term = createNullTerminal({ columns: 10, rows: 3 }, {
    keepOutput: true,
  });
  const w = new ScreenWriter(term);
  assert.equal(w.draw(["a", "b", "c"], { columns: 10, rows: 3 }), 3);
  assert.ok(term.output[0]!.includes("\x1b[2J"));
  assert.equal(w.draw(["a", "X", "c"], { columns: 10, rows: 3 }), 1);
  assert.ok(term.output[1]!.includes("\x1b[2;1H"));
  assert.ok(!term.output[1]!.includes("\x1b[1;1H"));
  const writes = term.writes;
  assert.equal(w.draw(["a", "X", "c"], { columns: 10, rows: 3 }), 0);
  assert.equal(term.writes, writes, "nothing changed: nothing written");
  assert.equal(w.draw(["a", "X", "c"], { columns: 12, rows: 3 }), 3);
});

Deno.test("runDashboard() ends (terminal restored) when the terminal stops accepting writes", async () => {
  await using broker = await testBroker({ session: "s" });
  const term = createNullTerminal({ columns: 80, rows: 24 });
  let writes = 0;
  term.write = () => {
    if (++writes > 1) throw new Error("EIO: the pane is gone");
  };
  try {
    const done = runDashboard(
      broker,
      { session: "s", config: defaultConfig() },
      {
        terminal: term,
      },
    );
    await broker.publish(status("feat-a", "after the first frame"));
    await done;
    assert.equal(term.entered, false);
    assert.ok(writes >= 2);
  } finally {
    term.closeInput();
  }
});
