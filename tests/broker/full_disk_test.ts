/**
 * A full disk loses nothing and changes nothing: a refused (503) publish
 * reaches no roster, log, subscriber, human log or inbox and uses no seq;
 * once space is back, acknowledged messages survive a kill -9. The disk is a
 * real 1 MiB tmpfs (we mount it; skipped, with the reason, where mounting
 * is refused), plus a unit test with an injected failing writer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type LogSink, openStore } from "../../lib/broker/store.ts";
import { parseMessage } from "../../lib/core/messages.ts";
import type { BrokerEvent } from "../../lib/broker/api.ts";
import {
  type PublishOutcome,
  storedCommitSeq,
} from "../../lib/core/broker_state.ts";
import {
  get,
  post,
  spawnBroker as spawnBrokerProcess,
  statusMsg,
  testBroker,
} from "../_helpers/broker.ts";

const T0 = 1_750_000_000_000;

function msg(input: unknown) {
  const r = parseMessage(input);
  if (!r.ok) throw new Error(JSON.stringify(r.error.body));
  return r.message;
}

/** A ~3 KB artifact from `id` (broadcast to every other inbox). */
function bigArtifact(id: string) {
  return {
    type: "agent.artifact",
    agent_id: id,
    payload: {
      status: "done",
      exports: ["x".repeat(3000)],
      modified_files: [],
    },
  };
}

async function run(cmd: string, args: string[]) {
  const r = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: r.code, err: new TextDecoder().decode(r.stderr).trim() };
}

/** Mount a tmpfs of `size` on a fresh temp dir; a string says why not. */
async function mountTmpfs(
  size: string,
): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> } | string> {
  const path = await Deno.makeTempDir({ prefix: "paw-tmpfs-" });
  let r: { code: number; err: string };
  try {
    r = await run("mount", [
      "-t",
      "tmpfs",
      "-o",
      `size=${size}`,
      "tmpfs",
      path,
    ]);
  } catch (e) {
    r = { code: -1, err: (e as Error).message };
  }
  if (r.code !== 0) {
    await Deno.remove(path);
    return `mount -t tmpfs refused: ${r.err || `exit ${r.code}`}`;
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      await run("umount", [path]);
      await Deno.remove(path, { recursive: true });
    },
  };
}

const probe = await mountTmpfs("64k");
const skip = typeof probe === "string" ? probe : null;
if (typeof probe !== "string") await probe[Symbol.asyncDispose]();
const suffix = skip ? ` (skipped: ${skip})` : "";

/** Fill the disk with big artifacts until `refusals` publishes got 503. */
async function fill(url: string, accepted: string[], refused: string[]) {
  for (let i = 0; i < 5000 && refused.length < 3; i++) {
    const id = `fill-${i}`;
    const r = await post(`${url}/publish`, bigArtifact(id));
    if (r.status === 202) accepted.push(id);
    else {
      assert.equal(r.status, 503, r.text);
      refused.push(id);
    }
  }
  assert.equal(refused.length, 3, "the disk filled up");
  // A batch of several publishes in one turn fails as a whole.
  const burst = ["burst-0", "burst-1", "burst-2"];
  const rs = await Promise.all(
    burst.map((id) => post(`${url}/publish`, bigArtifact(id))),
  );
  for (const [i, r] of rs.entries()) {
    if (r.status === 202) accepted.push(burst[i]!);
    else {
      assert.equal(r.status, 503, r.text);
      refused.push(burst[i]!);
    }
  }
}

type LogEntryJson = { seq: number; message: { agent_id: string } };

/** What the broker shows matches `accepted` exactly, in order, seqs 1..N. */
async function assertShows(url: string, accepted: string[], refused: string[]) {
  const status = await get(`${url}/status`);
  assert.equal(status.json.last_seq, accepted.length);
  assert.deepEqual(
    status.json.agents.map((a: { agent_id: string }) => a.agent_id).sort(),
    [...accepted].sort(),
  );
  const log = await get(`${url}/log?since=0`);
  const entries = log.json.entries as LogEntryJson[];
  assert.deepEqual(
    entries.map((e) => e.seq),
    accepted.map((_, i) => i + 1),
    "seqs are contiguous: a 503 used none",
  );
  assert.deepEqual(entries.map((e) => e.message.agent_id), accepted);
  // The reader's inbox holds every accepted artifact, nothing refused.
  const inbox = await get(`${url}/messages/reader?since=0`);
  assert.deepEqual(
    inbox.json.messages.map((m: { seq: number }) => m.seq),
    accepted.slice(1).map((_, i) => i + 2),
  );
  for (const id of refused) {
    assert.ok(!JSON.stringify(status.json).includes(`"${id}"`), id);
    assert.ok(!JSON.stringify(log.json).includes(`"${id}"`), id);
  }
}

/** The human log's `[seq] … [agent]` pairs. */
async function humanIds(path: string): Promise<Array<[number, string]>> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l !== "").map((l) => {
    const m = /^\[(\d+)\] \d+ \[([^\]]+)\]/.exec(l);
    assert.ok(m, `a whole human line: ${l.slice(0, 80)}`);
    return [Number(m[1]), m[2]!];
  });
}

Deno.test("BrokerStore: a failed write changes nothing, is cut off the file, and gives its seqs back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-store-" });
  try {
    // Injected writer: `budget` bytes go through, then "no space".
    let budget = Infinity;
    const wrapLog = (f: LogSink): LogSink => ({
      writeSync(p) {
        if (budget <= 0) {
          throw new Error("No space left on device (os error 28)");
        }
        const n = f.writeSync(p.subarray(0, Math.min(p.length, budget)));
        budget -= n;
        return n;
      },
      truncateSync: (len) => f.truncateSync(len),
      seekSync: (o, w) => f.seekSync(o, w),
    });
    const warnings: string[] = [];
    const store = await openStore({
      dataDir: dir,
      session: "u",
      wrapLog,
      warn: (l) => warnings.push(l),
    });
    const announced: PublishOutcome[] = [];
    store.onDurable = (_top, outs) => announced.push(...outs);
    const status = (id: string) =>
      msg({
        type: "agent.status",
        agent_id: id,
        payload: { status: "working" },
      });
    await store.publish(status("reader"), T0).durable;
    await store.publish(msg(bigArtifact("ok-1")), T0).durable;
    const size = (await Deno.stat(store.logPath)).size;
    await store.flush(); // human lines may wait a few ms to share a write
    const human = await Deno.readTextFile(store.humanPath);

    budget = 100; // a torn partial line, then ENOSPC
    const a = store.publish(msg(bigArtifact("no-1")), T0);
    const b = store.publish(status("no-2"), T0);
    const commit = msg({
      type: "agent.artifact",
      agent_id: "ok-1",
      payload: {
        status: "committed",
        exports: [],
        modified_files: [],
        commit: "abcdef1",
      },
    });
    const c0 = store.publish(commit, T0);
    assert.equal(a.outcome.entry.seq, 3);
    // A second report of the commit in the same batch is known at once.
    assert.equal(storedCommitSeq(store.state, commit), 5);
    await assert.rejects(a.durable, /No space/);
    await assert.rejects(b.durable, /No space/);
    await assert.rejects(c0.durable, /No space/);
    assert.equal(storedCommitSeq(store.state, commit), null, "forgotten");
    budget = 0;
    const w = store.watch({ agent_id: "no-w", worktree_path: "/w", cli: null });
    assert.equal(w.added, true);
    await assert.rejects(w.durable, /No space/);

    assert.equal((await Deno.stat(store.logPath)).size, size, "cut back");
    assert.equal(store.state.lastSeq, 2);
    assert.equal(store.durableSeq, 2);
    assert.deepEqual([...store.state.agents.keys()], ["reader", "ok-1"]);
    assert.ok(!store.state.inboxes.has("no-1"));
    assert.deepEqual([...store.pollSeqs("reader", 0).seqs], [2]);
    assert.deepEqual(store.logSeqs(0), [1, 2]);
    assert.equal(store.state.watched.size, 0);
    assert.deepEqual(announced.map((o) => o.entry.seq), [1, 2]);
    await store.flush();
    assert.equal(await Deno.readTextFile(store.humanPath), human);
    assert.ok(warnings.some((l) => /cannot write/.test(l)), warnings.join());

    budget = Infinity; // space is back
    const c = store.publish(msg(bigArtifact("ok-2")), T0);
    assert.equal(c.outcome.entry.seq, 3, "the refused seqs were given back");
    await c.durable;
    assert.deepEqual(c.outcome.deliveredTo, ["reader", "ok-1"]);
    const w2 = store.watch({
      agent_id: "ok-w",
      worktree_path: "/w",
      cli: null,
    });
    assert.equal(w2.added, true, "a refused watch was not registered");
    await w2.durable;
    assert.deepEqual(announced.map((o) => o.entry.seq), [1, 2, 3]);
    await store.close();

    const q: string[] = [];
    const again = await openStore({
      dataDir: dir,
      session: "u",
      warn: (l) => q.push(l),
    });
    assert.deepEqual(q, []);
    assert.deepEqual(again.logSeqs(0), [1, 2, 3]);
    assert.deepEqual(
      again.entries([1, 2, 3]).map((e) =>
        (e.message as { agent_id: string }).agent_id
      ),
      ["reader", "ok-1", "ok-2"],
    );
    assert.deepEqual([...again.state.watched.keys()], ["/w"]);
    await again.close();
    assert.deepEqual(
      (await humanIds(join(dir, "u.broker.log"))).map(([s]) => s),
      [1, 2, 3],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    `broker on a full tmpfs: a 503 reaches no roster, /log, subscriber, human log or inbox, and uses no seq${suffix}`,
  ignore: skip !== null,
  async fn() {
    const mnt = await mountTmpfs("1m");
    if (typeof mnt === "string") throw new Error(mnt);
    await using _mnt = mnt;
    const filler = join(mnt.path, "filler");
    await Deno.writeFile(filler, new Uint8Array(256 * 1024).fill(1));
    await using broker = await testBroker({
      dataDir: mnt.path,
      session: "full",
    });
    const events: BrokerEvent[] = [];
    broker.subscribe((ev) => events.push(ev));
    const accepted = ["reader"];
    const refused: string[] = [];
    assert.equal(
      (await post(`${broker.url}/publish`, statusMsg("reader"))).status,
      202,
    );
    await fill(broker.url, accepted, refused);

    const check = async () => {
      await assertShows(broker.url, accepted, refused);
      const seen = events.flatMap((e) => e.kind === "entry" ? [e.entry] : []);
      assert.deepEqual(seen.map((e) => e.seq), accepted.map((_, i) => i + 1));
      assert.deepEqual(
        seen.map((e) => (e.message as { agent_id: string }).agent_id),
        accepted,
      );
      for (const [, id] of await humanIds(broker.humanLogPath)) {
        assert.ok(!refused.includes(id), `refused ${id} in broker.log`);
      }
    };
    await check();

    await Deno.remove(filler); // space is back
    for (let i = 0; i < 5; i++) {
      const id = `after-${i}`;
      assert.equal(
        (await post(`${broker.url}/publish`, bigArtifact(id))).status,
        202,
      );
      accepted.push(id);
    }
    await check();
    // Every acknowledged message reached the human log, in order (lines
    // less than 10 ms apart share one write: give the last one that long).
    const want = accepted.map((id, i) => [i + 1, id]);
    for (let i = 0; i < 50; i++) {
      if ((await humanIds(broker.humanLogPath)).length >= want.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await humanIds(broker.humanLogPath), want);
  },
});

/** `git-paw broker` as a subprocess; resolves its URL and stderr. */
async function spawnBroker(dir: string) {
  const { child, url, rest, errText } = await spawnBrokerProcess(
    ["--port", "0", "--data-dir", dir, "--session", "kill"],
  );
  assert.ok(url, "the broker printed its URL");
  return {
    url,
    async kill9() {
      child.kill("SIGKILL");
      await child.status;
      await rest;
      return await errText;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await rest;
      return await errText;
    },
  };
}

Deno.test({
  name:
    `git-paw broker on a full tmpfs, space freed, kill -9, restart: every acknowledged message is back in order${suffix}`,
  ignore: skip !== null,
  async fn() {
    const mnt = await mountTmpfs("1m");
    if (typeof mnt === "string") throw new Error(mnt);
    await using _mnt = mnt;
    const filler = join(mnt.path, "filler");
    await Deno.writeFile(filler, new Uint8Array(256 * 1024).fill(1));
    const b1 = await spawnBroker(mnt.path);
    const accepted = ["reader"];
    const refused: string[] = [];
    let err1: string;
    try {
      assert.equal(
        (await post(`${b1.url}/publish`, statusMsg("reader"))).status,
        202,
      );
      await fill(b1.url, accepted, refused);
      await assertShows(b1.url, accepted, refused);
      await Deno.remove(filler);
      for (let i = 0; i < 5; i++) {
        const id = `after-${i}`;
        assert.equal(
          (await post(`${b1.url}/publish`, bigArtifact(id))).status,
          202,
        );
        accepted.push(id);
      }
      await assertShows(b1.url, accepted, refused);
    } finally {
      err1 = await b1.kill9();
    }
    assert.match(err1, /cannot write/);

    const b2 = await spawnBroker(mnt.path);
    let err2: string;
    try {
      await assertShows(b2.url, accepted, refused);
    } finally {
      err2 = await b2.stop();
    }
    assert.doesNotMatch(err2, /unreadable|torn|malformed/, err2);
    assert.deepEqual(
      await humanIds(join(mnt.path, "kill.broker.log")),
      accepted.map((id, i) => [i + 1, id]),
    );
  },
});
