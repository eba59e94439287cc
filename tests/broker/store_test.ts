import assert from "node:assert/strict";
import { join } from "node:path";
import { BrokerStore, humanLine, openStore } from "../../lib/broker/store.ts";
import { type BrokerMessage, parseMessage } from "../../lib/core/messages.ts";
import { snapshot } from "../../lib/core/broker_state.ts";

function msg(input: unknown): BrokerMessage {
  const r = parseMessage(input);
  if (!r.ok) throw new Error(JSON.stringify(r.error.body));
  return r.message;
}
const status = (id: string, s: string) =>
  msg({ type: "agent.status", agent_id: id, payload: { status: s } });
const artifact = (id: string, s: string) =>
  msg({
    type: "agent.artifact",
    agent_id: id,
    payload: { status: s, exports: [], modified_files: [] },
  });
const T0 = 1_750_000_000_000;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "paw-store-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function quiet() {
  const warnings: string[] = [];
  return { warnings, warn: (l: string) => warnings.push(l) };
}

Deno.test("BrokerStore.publish() writes the line before its promise resolves", async () => {
  await withDir(async (dir) => {
    const store = await openStore({ dataDir: dir, session: "s1" });
    const { outcome, durable } = store.publish(status("a", "working"), T0);
    assert.equal(outcome.entry.seq, 1);
    // Not yet visible to polls before it is written.
    assert.equal(store.durableSeq, 0);
    await durable;
    assert.equal(store.durableSeq, 1);
    const text = await Deno.readTextFile(join(dir, "s1.jsonl"));
    const line = JSON.parse(text.trim());
    assert.equal(line.seq, 1);
    assert.equal(line.timestamp_unix_secs, T0 / 1000);
    assert.equal(line.message.payload.status, "working");
    await store.close();
  });
});

Deno.test("BrokerStore.publish() groups publishes of one tick into one batch", async () => {
  await withDir(async (dir) => {
    const store = await openStore({ dataDir: dir, session: "s" });
    const a = store.publish(status("a", "working"), T0).durable;
    const b = store.publish(status("b", "working"), T0).durable;
    assert.equal(a, b, "same batch, same promise");
    await a;
    const lines = (await Deno.readTextFile(store.logPath)).trim().split("\n");
    assert.equal(lines.length, 2);
    await store.close();
  });
});

Deno.test("openStore() replays the log: seq, roster, inboxes and watches continue", async () => {
  await withDir(async (dir) => {
    const s1 = await openStore({ dataDir: dir, session: "proj" });
    await s1.watch({ agent_id: "feat-w", worktree_path: "/w", cli: "claude" })
      .durable;
    s1.publish(status("feat-a", "working"), T0);
    s1.publish(status("feat-b", "working"), T0);
    await s1.publish(artifact("feat-a", "committed"), T0).durable;
    await s1.close();

    const s2 = await openStore({ dataDir: dir, session: "proj" });
    assert.equal(s2.state.lastSeq, 3);
    assert.deepEqual([...s2.pollSeqs("feat-b", 0).seqs], [3]);
    assert.deepEqual([...s2.pollSeqs("feat-w", 0).seqs], [3]);
    assert.equal(s2.state.clis.get("feat-w"), "claude");
    assert.deepEqual(
      snapshot(s2.state, T0).map((r) => [r.agent_id, r.status]),
      [["feat-a", "committed"], ["feat-b", "working"]],
    );
    const next = s2.publish(status("feat-c", "idle"), T0);
    assert.equal(next.outcome.entry.seq, 4);
    await next.durable;
    await s2.close();
    // Another session in the same dir is separate.
    const other = await openStore({ dataDir: dir, session: "other" });
    assert.equal(other.state.lastSeq, 0);
    await other.close();
  });
});

Deno.test("openStore() skips a torn last line with a warning and keeps going", async () => {
  await withDir(async (dir) => {
    const s1 = await openStore({ dataDir: dir, session: "t" });
    s1.publish(status("a", "working"), T0);
    await s1.publish(status("b", "working"), T0).durable;
    await s1.close();
    await Deno.writeTextFile(
      join(dir, "t.jsonl"),
      '{"seq":3,"timestamp_unix_secs":1,"message":{"type":"agent.st',
      { append: true },
    );
    const q = quiet();
    const s2 = await openStore({ dataDir: dir, session: "t", warn: q.warn });
    assert.equal(s2.state.lastSeq, 2);
    assert.ok(
      q.warnings.some((w) => w.includes("torn last line")),
      q.warnings.join("\n"),
    );
    await s2.publish(status("c", "working"), T0).durable;
    await s2.close();
    // The file is whole again: a third open replays three clean entries.
    const q3 = quiet();
    const s3 = await openStore({ dataDir: dir, session: "t", warn: q3.warn });
    assert.equal(s3.state.lastSeq, 3);
    assert.deepEqual(q3.warnings, []);
    await s3.close();
  });
});

Deno.test("openStore() skips a corrupt middle line with a warning", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "m.jsonl");
    const line = (seq: number) =>
      JSON.stringify({
        seq,
        timestamp_unix_secs: 1,
        message: status("a", "working"),
      });
    await Deno.writeTextFile(path, `${line(1)}\n{garbage\n${line(3)}\n`);
    const q = quiet();
    const s = await openStore({ dataDir: dir, session: "m", warn: q.warn });
    assert.equal(s.state.lastSeq, 3);
    assert.equal(q.warnings.length, 1);
    assert.deepEqual(s.logSeqs(0), [1, 3]);
    await s.close();
  });
});

Deno.test("BrokerStore.entries() reads entries that left the window back from disk", async () => {
  await withDir(async (dir) => {
    const store = await openStore({
      dataDir: dir,
      session: "w",
      windowBytes: 4096,
    });
    store.seed("reader", null);
    let last!: Promise<void>;
    for (let i = 0; i < 50; i++) {
      last = store.publish(artifact("writer", `s${i}`), T0).durable;
    }
    await last;
    const { seqs, lastSeq } = store.pollSeqs("reader", 0);
    assert.equal(seqs.length, 50);
    assert.equal(lastSeq, 50);
    const entries = store.entries(seqs);
    assert.deepEqual(entries.map((e) => e.seq), [...seqs]);
    assert.deepEqual(
      entries.map((e) =>
        (e.message as { payload: { status: string } }).payload.status
      ),
      Array.from({ length: 50 }, (_, i) => `s${i}`),
    );
    // Same bytes as the stored line, whether from memory or disk.
    const lines = (await Deno.readTextFile(store.logPath)).trim().split("\n");
    assert.deepEqual(entries.map((e) => BrokerStore.entryJson(e)), lines);
    await store.close();
  });
});

Deno.test("BrokerStore writes the human log in the Broker log form, flushed at close", async () => {
  await withDir(async (dir) => {
    const store = await openStore({
      dataDir: dir,
      session: "h",
    });
    store.publish(status("feat-a", "working"), 1_750_760_000_000);
    await store.publish(
      msg({
        type: "agent.question",
        agent_id: "feat-a",
        payload: { question: "two\nlines" },
      }),
      1_750_760_001_000,
    ).durable;
    await store.close();
    const text = await Deno.readTextFile(join(dir, "h.broker.log"));
    assert.deepEqual(text.split("\n"), [
      "[1] 1750760000 [feat-a] [feat-a] status: working (0 files modified)",
      "[2] 1750760001 [feat-a] [feat-a] question: two lines",
      "",
    ]);
  });
});

Deno.test("openStore() appends human lines a crash left out, without repeating", async () => {
  await withDir(async (dir) => {
    const s1 = await openStore({ dataDir: dir, session: "c" });
    await s1.publish(status("a", "working"), T0).durable;
    await s1.close();
    // Simulate a crash after the JSONL write but before the human flush.
    const e2 = { seq: 2, timestamp_unix_secs: 5, message: status("b", "idle") };
    await Deno.writeTextFile(
      join(dir, "c.jsonl"),
      JSON.stringify(e2) + "\n",
      { append: true },
    );
    const s2 = await openStore({ dataDir: dir, session: "c" });
    await s2.close();
    const lines = (await Deno.readTextFile(join(dir, "c.broker.log"))).trim()
      .split("\n");
    assert.equal(lines.length, 2);
    assert.equal(lines[1], humanLine(e2).trim());
  });
});

Deno.test("BrokerStore.close() is idempotent and leaves the log fsynced on disk", async () => {
  await withDir(async (dir) => {
    const store = await openStore({ dataDir: dir, session: "x" });
    store.publish(status("a", "working"), T0);
    await store.close();
    await store.close();
    const text = await Deno.readTextFile(store.logPath);
    assert.equal(text.trim().split("\n").length, 1);
    assert.throws(() => store.publish(status("a", "x"), T0), /closed/);
  });
});

Deno.test("BrokerStore.watch() is idempotent per path and logged once", async () => {
  await withDir(async (dir) => {
    const store = await openStore({ dataDir: dir, session: "w" });
    const t = { agent_id: "feat-a", worktree_path: "/a", cli: null };
    const first = store.watch(t);
    assert.equal(first.added, true);
    await first.durable;
    assert.equal(store.watch(t).added, false);
    await store.close();
    const lines = (await Deno.readTextFile(store.logPath)).trim().split("\n");
    assert.deepEqual(lines.map((l) => JSON.parse(l)), [{ watch: t }]);
  });
});

Deno.test("BrokerStore.entries() reads back around a corrupt middle line", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "g.jsonl");
    const line = (seq: number, s: string) =>
      JSON.stringify({
        seq,
        timestamp_unix_secs: 1,
        message: artifact("w", s),
      });
    await Deno.writeTextFile(
      path,
      `${line(1, "one")}\n{garbage\n${line(2, "two")}\n${line(3, "three")}\n`,
    );
    const q = quiet();
    const s = await openStore({
      dataDir: dir,
      session: "g",
      windowBytes: 4096,
      warn: q.warn,
    });
    const got = s.entries([1, 2, 3]);
    assert.deepEqual(
      got.map((e) =>
        (e.message as { payload: { status: string } }).payload.status
      ),
      ["one", "two", "three"],
    );
    assert.deepEqual(s.entries([2]).map((e) => e.seq), [2]);
    await s.close();
  });
});

Deno.test("openStore() refuses a second writer on the same session log", async () => {
  await withDir(async (dir) => {
    const a = await openStore({ dataDir: dir, session: "one" });
    await assert.rejects(
      openStore({ dataDir: dir, session: "one" }),
      /another broker in this process/,
    );
    // Another session in the same dir is fine.
    const b = await openStore({ dataDir: dir, session: "two" });
    await b.close();
    await a.close();
    // Released on close.
    const again = await openStore({ dataDir: dir, session: "one" });
    await again.close();
  });
});

Deno.test("openStore() takes over a lock left by a dead process, refuses a live one", async () => {
  await withDir(async (dir) => {
    const lock = join(dir, "s.jsonl.lock");
    // A pid that cannot be running.
    await Deno.writeTextFile(lock, "999999999\n");
    const s = await openStore({ dataDir: dir, session: "s" });
    assert.equal((await Deno.readTextFile(lock)).trim(), String(Deno.pid));
    await s.close();
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
    // A live process that is not us holds it (checked without /proc).
    const child = new Deno.Command("sleep", { args: ["5"] }).spawn();
    try {
      await Deno.writeTextFile(lock, `${child.pid}\n`);
      await assert.rejects(
        openStore({ dataDir: dir, session: "s" }),
        new RegExp(`another broker \\(pid ${child.pid}\\)`),
      );
      assert.equal(await Deno.readTextFile(lock), `${child.pid}\n`);
      await Deno.remove(lock);
    } finally {
      child.kill();
      await child.status;
    }
  });
});

Deno.test("openStore() takes over a lock file holding garbage", async () => {
  await withDir(async (dir) => {
    const lock = join(dir, "g.jsonl.lock");
    await Deno.writeTextFile(lock, "not a pid");
    const s = await openStore({ dataDir: dir, session: "g" });
    assert.equal(await Deno.readTextFile(lock), `${Deno.pid}\n`);
    await s.close();
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
  });
});

Deno.test("openStore() starts human lines on a fresh line after a torn one", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "t.broker.log"), "[1] 5 [a] [a] stat");
    const s = await openStore({ dataDir: dir, session: "t" });
    await s.publish(status("a", "working"), T0).durable;
    await s.close();
    const lines = (await Deno.readTextFile(join(dir, "t.broker.log"))).split(
      "\n",
    );
    assert.equal(lines[0], "[1] 5 [a] [a] stat");
    assert.match(lines[1]!, /^\[1\] \d+ \[a\] \[a\] status: working/);
  });
});

/** A status's message, else the sender (what the mixed-batch test reads back). */
function textOf(m: BrokerMessage): string {
  return m.type === "agent.status" && m.payload.message !== null
    ? m.payload.message
    : JSON.stringify(m).slice(0, 40);
}

Deno.test("a batch mixing ASCII and other text is written, indexed and read back exactly", async () => {
  await withDir(async (dir) => {
    const texts = [
      "plain",
      "naïve — café 日本 🙂",
      "plain again",
      "\u{1F600}x",
    ];
    const store = await openStore({ dataDir: dir, session: "s1" });
    const pubs = texts.map((t) =>
      store.publish(
        msg({
          type: "agent.status",
          agent_id: "a",
          payload: { status: "working", message: t },
        }),
        T0,
      )
    );
    await Promise.all(pubs.map((p) => p.durable));
    // An all-ASCII batch after it, on the same file.
    const tail = store.publish(status("b", "working"), T0);
    await tail.durable;
    // Each entry on its own: its offset and span must be exact.
    const got = store.logSeqs(0, Infinity).map((seq) =>
      store.entries([seq]).map((e) => textOf(e.message))[0]
    );
    const last = textOf(status("b", "working"));
    assert.deepEqual(got, [...texts, last]);
    await store.close();
    // Read back from the file by a fresh store (the index rebuilt from disk).
    const again = await openStore({ dataDir: dir, session: "s1" });
    const back = again.entries(again.logSeqs(0, Infinity)).map((e) =>
      textOf(e.message)
    );
    assert.deepEqual(back, [...texts, last]);
    await again.close();
  });
});
