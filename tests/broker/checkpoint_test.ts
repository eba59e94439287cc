import assert from "node:assert/strict";
import { join } from "node:path";
import { BrokerStore, openStore } from "../../lib/broker/store.ts";
import { type BrokerMessage, parseMessage } from "../../lib/core/messages.ts";
import {
  pollJson,
  snapshot,
  watchTargets,
} from "../../lib/core/broker_state.ts";

const T0 = 1_750_000_000_000;

function msg(input: unknown): BrokerMessage {
  const r = parseMessage(input);
  if (!r.ok) throw new Error(JSON.stringify(r.error.body));
  return r.message;
}

/** Deterministic mixed traffic: every routing rule, roster labels, phases. */
function traffic(n: number, seed = 1): BrokerMessage[] {
  let x = seed;
  const rnd = (k: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % k;
  };
  const agents = ["feat-a", "feat-b", "feat-c", "feat-d", "fix-e"];
  const labels = ["working", "done", "committed", "blocked", "verified"];
  const out: BrokerMessage[] = [];
  for (let i = 0; i < n; i++) {
    const a = agents[rnd(agents.length)]!;
    const b = agents[rnd(agents.length)]!;
    switch (rnd(10)) {
      case 0:
      case 1:
      case 2:
        out.push(msg({
          type: "agent.status",
          agent_id: a,
          payload: {
            status: labels[rnd(labels.length)],
            ...(rnd(3) === 0 ? { phase: `p${rnd(4)}` } : {}),
            ...(rnd(4) === 0 ? { cli: `cli-${rnd(3)}` } : {}),
            message: `step ${i}`,
          },
        }));
        break;
      case 3:
      case 4:
        out.push(msg({
          type: "agent.artifact",
          agent_id: a,
          payload: {
            status: rnd(2) ? "committed" : "done",
            exports: [`e${i}`],
            modified_files: [`src/${i}.ts`],
            ...(rnd(2) ? { commit: (0xabc0000 + rnd(50)).toString(16) } : {}),
          },
        }));
        break;
      case 5:
        out.push(msg({
          type: "agent.question",
          agent_id: a,
          payload: { question: `why ${i}?` },
        }));
        break;
      case 6:
        out.push(msg({
          type: "agent.feedback",
          agent_id: b,
          payload: { from: a, errors: [`e${i}`] },
        }));
        break;
      case 7:
        out.push(msg({
          type: "agent.blocked",
          agent_id: a,
          payload: { needs: `n${i}`, from: b },
        }));
        break;
      case 8:
        out.push(msg({
          type: "agent.verified",
          agent_id: a,
          payload: { verified_by: b },
        }));
        break;
      default:
        out.push(msg({
          type: "agent.learning",
          payload: {
            id: `l${i}`,
            agent_id: a,
            branch_id: rnd(2) ? b : null,
            category: "c",
            title: "t",
            body: "b",
            timestamp: "2026-01-01T00:00:00Z",
          },
        }));
    }
  }
  return out;
}

/** Everything a client can see: roster, /status, every inbox's poll, /log. */
function image(s: BrokerStore, full = true) {
  const ids = [...s.state.inboxes.keys()];
  return {
    lastSeq: s.state.lastSeq,
    durableSeq: s.durableSeq,
    status: snapshot(s.state, T0 + 3_600_000),
    agents: [...s.state.agents.entries()],
    clis: [...s.state.clis.entries()],
    watched: watchTargets(s.state),
    commits: [...s.state.commits].map(([id, seen]) => [id, [...seen]]),
    inboxOrder: ids,
    polls: ids.map((id) => {
      const seqs = s.pollSeqs(id, 0).seqs;
      return full ? s.entries(seqs).map(pollJson) : [...seqs];
    }),
    pollsSince: ids.map((id) => [...s.pollSeqs(id, 7, 5).seqs]),
    log: full
      ? s.entries(s.logSeqs(0)).map(BrokerStore.entryJson)
      : s.logSeqs(0),
    logSample: s.entries(s.logSeqs(0).filter((q) => q % 997 === 1))
      .map(BrokerStore.entryJson),
  };
}

function quiet() {
  const warnings: string[] = [];
  return { warnings, warn: (l: string) => warnings.push(l) };
}

async function withDirs(fn: (a: string, b: string) => Promise<void>) {
  const a = await Deno.makeTempDir({ prefix: "paw-ckpt-" });
  const b = await Deno.makeTempDir({ prefix: "paw-ckpt-" });
  try {
    await fn(a, b);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
}

async function publishAll(s: BrokerStore, msgs: BrokerMessage[], t = T0) {
  let last: Promise<void> = Promise.resolve();
  for (let i = 0; i < msgs.length; i++) {
    last = s.publish(msgs[i]!, t + i * 1000).durable;
    if (i % 500 === 499) await last;
  }
  await last;
}

/** Copy the log and human log (not the checkpoint) to `to`. */
async function copyLog(from: string, to: string, session: string) {
  for (const f of [`${session}.jsonl`, `${session}.broker.log`]) {
    await Deno.copyFile(join(from, f), join(to, f));
  }
}

/** A store that never writes a checkpoint on its own. */
const MANUAL = 2 ** 40;

Deno.test("openStore() from checkpoint + tail equals a full replay (roster, /status, polls, /log) and goes on alike", async () => {
  await withDirs(async (dir, plain) => {
    const msgs = traffic(3000);
    const s1 = await openStore({
      dataDir: dir,
      session: "c",
      checkpointBytes: MANUAL,
    });
    await s1.watch({ agent_id: "feat-w", worktree_path: "/w", cli: "claude" })
      .durable;
    await publishAll(s1, msgs.slice(0, 2000));
    await s1.checkpoint();
    const ckpt = join(dir, "c.jsonl.checkpoint");
    assert.equal((await Deno.stat(ckpt)).mode! & 0o777, 0o600);
    await s1.watch({ agent_id: "feat-x", worktree_path: "/x", cli: null })
      .durable;
    await publishAll(s1, msgs.slice(2000), T0 + 5_000_000);
    await s1.close();
    await copyLog(dir, plain, "c");

    const q = quiet();
    const fromCkpt = await openStore({
      dataDir: dir,
      session: "c",
      warn: q.warn,
    });
    const full = await openStore({
      dataDir: plain,
      session: "c",
      checkpointBytes: 0,
    });
    try {
      assert.deepEqual(q.warnings, []);
      assert.ok(fromCkpt.replayedFrom > 0, "the checkpoint was used");
      assert.equal(full.replayedFrom, 0);
      assert.deepEqual(image(fromCkpt), image(full));
      // Both go on the same way: same seq, same routing.
      for (const m of traffic(200, 7)) {
        const a = fromCkpt.publish(m, T0 + 9_000_000);
        const b = full.publish(m, T0 + 9_000_000);
        await Promise.all([a.durable, b.durable]);
        assert.deepEqual(a.outcome, b.outcome);
      }
      assert.deepEqual(image(fromCkpt), image(full));
    } finally {
      await fromCkpt.close();
      await full.close();
    }
  });
});

Deno.test("openStore() from a checkpoint spanning many index and inbox pages equals a full replay", async () => {
  await withDirs(async (dir, plain) => {
    // 70,000 entries cross a 65,536-seq index page; broadcasts fill
    // several 4,096-seq inbox pages.
    const path = join(dir, "big.jsonl");
    const lines: string[] = [];
    const msgs = traffic(70_000, 3);
    for (let i = 0; i < msgs.length; i++) {
      lines.push(
        JSON.stringify({
          seq: i + 1,
          timestamp_unix_secs: T0 / 1000 + i,
          message: msgs[i],
        }),
      );
    }
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const s1 = await openStore({
      dataDir: dir,
      session: "big",
      checkpointBytes: 1,
    });
    await s1.checkpoint();
    await publishAll(s1, traffic(300, 9), T0 + 80_000_000);
    const tailFrom = (await Deno.stat(join(dir, "big.jsonl"))).size;
    await s1.close(); // writes a newer checkpoint (the log is >= 1 byte)
    // Tail after the close checkpoint, as a crash would leave it.
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        seq: 70_301,
        timestamp_unix_secs: 1,
        message: traffic(1, 5)[0],
      }) + "\n",
      { append: true },
    );
    await copyLog(dir, plain, "big");
    const fromCkpt = await openStore({ dataDir: dir, session: "big" });
    const full = await openStore({
      dataDir: plain,
      session: "big",
      checkpointBytes: 0,
    });
    try {
      assert.ok(fromCkpt.replayedFrom >= tailFrom, "replayed only the tail");
      assert.deepEqual(image(fromCkpt, false), image(full, false));
      const a = fromCkpt.publish(traffic(1, 11)[0]!, T0);
      const b = full.publish(traffic(1, 11)[0]!, T0);
      await Promise.all([a.durable, b.durable]);
      assert.deepEqual(a.outcome, b.outcome);
      assert.deepEqual(image(fromCkpt, false), image(full, false));
    } finally {
      await fromCkpt.close();
      await full.close();
    }
  });
});

/** Build a log with a checkpoint in the middle; returns the checkpoint path. */
async function logWithCheckpoint(dir: string): Promise<string> {
  const s = await openStore({
    dataDir: dir,
    session: "f",
    checkpointBytes: MANUAL,
  });
  await publishAll(s, traffic(400, 2));
  await s.checkpoint();
  await publishAll(s, traffic(100, 4), T0 + 1_000_000);
  await s.close();
  return join(dir, "f.jsonl.checkpoint");
}

const DAMAGE: Array<{
  name: string;
  why: RegExp;
  damage: (ckpt: string, log: string) => Promise<void>;
}> = [
  {
    name: "a truncated checkpoint",
    why: /truncated/,
    damage: async (ckpt) => {
      const b = await Deno.readFile(ckpt);
      await Deno.writeFile(ckpt, b.subarray(0, b.length - 100));
    },
  },
  {
    name: "a torn header",
    why: /torn header|JSON/,
    damage: (ckpt) => Deno.writeTextFile(ckpt, '{"git_paw_checkpoint":1,'),
  },
  {
    name: "a wrong checksum",
    why: /wrong checksum/,
    damage: async (ckpt) => {
      const b = await Deno.readFile(ckpt);
      b[b.length - 5] ^= 0x40;
      await Deno.writeFile(ckpt, b);
    },
  },
  {
    name: "a log shorter than the checkpoint's offset",
    why: /shorter than its offset/,
    damage: async (_ckpt, log) => {
      const text = await Deno.readTextFile(log);
      const lines = text.trimEnd().split("\n").slice(0, 300);
      await Deno.writeTextFile(log, lines.join("\n") + "\n");
    },
  },
  {
    name: "a rewritten log",
    why: /rewritten/,
    damage: async (_ckpt, log) => {
      const text = await Deno.readTextFile(log);
      const lines = text.trimEnd().split("\n");
      lines.splice(
        0,
        1,
        JSON.stringify({
          seq: 1,
          timestamp_unix_secs: 2,
          message: traffic(1, 99)[0],
        }),
      );
      await Deno.writeTextFile(log, lines.join("\n") + "\n");
    },
  },
  {
    name: "a log rewritten in the middle",
    why: /rewritten/,
    damage: async (_ckpt, log) => {
      const lines = (await Deno.readTextFile(log)).trimEnd().split("\n");
      for (let i = 150; i < 250; i++) {
        lines[i] = lines[i]!.replaceAll('"step ', '"STEP ');
      }
      await Deno.writeTextFile(log, lines.join("\n") + "\n");
    },
  },
];

for (const d of DAMAGE) {
  Deno.test(`openStore() falls back to a full replay with one warning on ${d.name}`, async () => {
    await withDirs(async (dir, plain) => {
      const ckpt = await logWithCheckpoint(dir);
      const log = join(dir, "f.jsonl");
      await d.damage(ckpt, log);
      await copyLog(dir, plain, "f");
      const q = quiet();
      const s = await openStore({
        dataDir: dir,
        session: "f",
        warn: q.warn,
        checkpointBytes: 1,
      });
      const full = await openStore({
        dataDir: plain,
        session: "f",
        checkpointBytes: 0,
      });
      try {
        assert.equal(q.warnings.length, 1, q.warnings.join("\n"));
        assert.match(q.warnings[0]!, /checkpoint ignored/);
        assert.match(q.warnings[0]!, d.why);
        assert.match(q.warnings[0]!, /replaying the whole log/);
        assert.equal(s.replayedFrom, 0);
        assert.deepEqual(image(s), image(full));
      } finally {
        await s.close();
        await full.close();
      }
      // The close wrote a fresh checkpoint, which the next open takes.
      const q2 = quiet();
      const again = await openStore({
        dataDir: dir,
        session: "f",
        warn: q2.warn,
      });
      assert.deepEqual(q2.warnings, []);
      assert.ok(again.replayedFrom > 0);
      await again.close();
    });
  });
}

Deno.test("BrokerStore.checkpoint() waits while a seeded agent is not in the log", async () => {
  await withDirs(async (dir) => {
    const s = await openStore({
      dataDir: dir,
      session: "s",
      checkpointBytes: MANUAL,
    });
    s.seed("feat-seeded", "claude"); // an inbox no log line explains
    await s.publish(traffic(1)[0]!, T0).durable;
    await s.checkpoint();
    await assert.rejects(
      Deno.stat(join(dir, "s.jsonl.checkpoint")),
      Deno.errors.NotFound,
    );
    await s.close();
    // Seeded and watched (the launcher's way): the watch line explains it.
    const t = await openStore({
      dataDir: dir,
      session: "t",
      checkpointBytes: MANUAL,
    });
    t.seed("feat-w", "claude");
    await t.watch({ agent_id: "feat-w", worktree_path: "/w", cli: "claude" })
      .durable;
    await t.publish(traffic(1)[0]!, T0).durable;
    await t.checkpoint();
    assert.ok((await Deno.stat(join(dir, "t.jsonl.checkpoint"))).isFile);
    await t.close();
  });
});

Deno.test("BrokerStore writes a checkpoint in the background once enough log is uncovered", async () => {
  await withDirs(async (dir) => {
    const s = await openStore({
      dataDir: dir,
      session: "b",
      checkpointBytes: 64 * 1024,
    });
    const ckpt = join(dir, "b.jsonl.checkpoint");
    await publishAll(s, traffic(100));
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(Deno.stat(ckpt), Deno.errors.NotFound);
    await publishAll(s, traffic(1500));
    for (let i = 0; i < 100; i++) {
      if (await Deno.stat(ckpt).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok((await Deno.stat(ckpt)).isFile, "written without a close");
    await s.close();
  });
});

Deno.test("openStore() from a checkpoint writes human lines a crash left out, without repeating", async () => {
  await withDirs(async (dir) => {
    const s = await openStore({
      dataDir: dir,
      session: "h",
      checkpointBytes: 1,
    });
    await publishAll(s, traffic(50));
    await s.close(); // checkpoint covers all 50
    const human = join(dir, "h.broker.log");
    const lines = (await Deno.readTextFile(human)).trimEnd().split("\n");
    assert.equal(lines.length, 50);
    // A crash lost the human lines of seqs 41..50 (inside the checkpoint).
    await Deno.writeTextFile(human, lines.slice(0, 40).join("\n") + "\n");
    const again = await openStore({ dataDir: dir, session: "h" });
    assert.ok(again.replayedFrom > 0);
    await again.close();
    assert.deepEqual(
      (await Deno.readTextFile(human)).trimEnd().split("\n"),
      lines,
    );
  });
});

Deno.test("openStore() removes checkpoint temp files a crash left behind", async () => {
  await withDirs(async (dir) => {
    const stale = join(dir, "t.jsonl.checkpoint.4242.abcd1234.tmp");
    const other = join(dir, "u.jsonl.checkpoint.4242.abcd1234.tmp");
    await Deno.writeTextFile(stale, "partial");
    await Deno.writeTextFile(other, "another session's");
    const s = await openStore({ dataDir: dir, session: "t" });
    await s.close();
    await assert.rejects(Deno.stat(stale), Deno.errors.NotFound);
    assert.ok((await Deno.stat(other)).isFile);
  });
});
