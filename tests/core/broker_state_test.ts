import assert from "node:assert/strict";
import {
  createBrokerState,
  entryInWindow,
  forgetWatch,
  nextLabel,
  poll,
  pollJson,
  pollWindow,
  publish,
  registerWatch,
  seedAgent,
  snapshot,
  upperBound,
  watchTargets,
} from "../../lib/core/broker_state.ts";
import { type BrokerMessage, parseMessage } from "../../lib/core/messages.ts";

function msg(input: unknown): BrokerMessage {
  const r = parseMessage(input);
  if (!r.ok) throw new Error(JSON.stringify(r.error.body));
  return r.message;
}
const status = (id: string, s: string, extra: Record<string, unknown> = {}) =>
  msg({ type: "agent.status", agent_id: id, payload: { status: s, ...extra } });
const artifact = (id: string, s: string, exports: string[] = []) =>
  msg({
    type: "agent.artifact",
    agent_id: id,
    payload: { status: s, exports, modified_files: ["src/main.rs"] },
  });
const blocked = (id: string, needs: string, from: string) =>
  msg({ type: "agent.blocked", agent_id: id, payload: { needs, from } });

const T0 = 1_750_000_000_000;
function fresh(opts = {}) {
  return createBrokerState(opts);
}
function seqsOf(s: ReturnType<typeof fresh>, id: string): number[] {
  return [...poll(s, id, 0).seqs];
}
function pollMsgs(s: ReturnType<typeof fresh>, id: string, since = 0) {
  const r = pollWindow(s, id, since);
  assert.deepEqual(r.missing, []);
  return { msgs: r.entries.map((e) => e.message), lastSeq: r.lastSeq };
}
function logSeqs(s: ReturnType<typeof fresh>): number[] {
  const out: number[] = [];
  for (let q = 1; q <= s.lastSeq; q++) {
    if (entryInWindow(s, q)) out.push(q);
  }
  return out;
}

// ---- Counterparts of delivery.rs tests ----

Deno.test("publish() accumulates three log entries with seqs 1, 2, 3", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, artifact("b", "done"), T0);
  publish(s, blocked("c", "reason", "a"), T0);
  assert.deepEqual(logSeqs(s), [1, 2, 3]);
  assert.equal(s.lastSeq, 3);
});

Deno.test("publish() logs every message type, routed or not", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, artifact("a", "done"), T0);
  publish(s, blocked("b", "reason", "a"), T0);
  assert.equal(logSeqs(s).length, 3);
  assert.equal(entryInWindow(s, 1)?.message.type, "agent.status");
  assert.equal(entryInWindow(s, 3)?.message.type, "agent.blocked");
});

Deno.test("publish() stores the global seq in the recipient's inbox", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, status("b", "working"), T0);
  publish(s, artifact("a", "done"), T0);
  assert.deepEqual(seqsOf(s, "b"), [3]);
});

Deno.test("publish() creates roster record and inbox on first publish", () => {
  const s = fresh();
  publish(s, status("feat-errors", "working"), T0);
  assert.equal(s.agents.get("feat-errors")?.status, "working");
  assert.ok(s.inboxes.has("feat-errors"));
});

Deno.test("publish() routes agent.status to no inbox", () => {
  const s = fresh();
  publish(s, status("feat-errors", "working"), T0);
  publish(s, status("feat-detect", "working"), T0);
  const out = publish(s, status("feat-errors", "idle"), T0);
  assert.deepEqual(out.deliveredTo, []);
  assert.deepEqual(seqsOf(s, "feat-detect"), []);
  assert.deepEqual(seqsOf(s, "feat-errors"), []);
});

Deno.test("publish() broadcasts agent.artifact to all peers", () => {
  const s = fresh();
  for (const id of ["feat-errors", "feat-detect", "feat-config"]) {
    publish(s, status(id, "working"), T0);
  }
  publish(s, artifact("feat-errors", "done"), T0);
  assert.equal(pollMsgs(s, "feat-detect").msgs.length, 1);
  assert.equal(pollMsgs(s, "feat-config").msgs.length, 1);
});

Deno.test("publish() skips the sender when broadcasting agent.artifact", () => {
  const s = fresh();
  publish(s, status("feat-errors", "working"), T0);
  publish(s, status("feat-detect", "working"), T0);
  publish(s, artifact("feat-errors", "done"), T0);
  assert.deepEqual(seqsOf(s, "feat-errors"), []);
});

Deno.test("publish() broadcast does not create inboxes for unknown agents", () => {
  const s = fresh();
  publish(s, status("feat-errors", "working"), T0);
  publish(s, artifact("feat-errors", "done"), T0);
  assert.equal(s.inboxes.has("feat-detect"), false);
  assert.deepEqual([...s.inboxes.keys()], ["feat-errors"]);
});

Deno.test("publish() delivers agent.blocked to the `from` agent", () => {
  const s = fresh();
  publish(s, status("feat-config", "working"), T0);
  publish(s, status("feat-errors", "working"), T0);
  publish(s, blocked("feat-config", "error types", "feat-errors"), T0);
  const { msgs } = pollMsgs(s, "feat-errors");
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.type, "agent.blocked");
  assert.equal((msgs[0] as { agent_id: string }).agent_id, "feat-config");
});

Deno.test("publish() does not deliver agent.blocked to bystanders", () => {
  const s = fresh();
  for (const id of ["feat-config", "feat-errors", "feat-detect"]) {
    publish(s, status(id, "working"), T0);
  }
  publish(s, blocked("feat-config", "error types", "feat-errors"), T0);
  assert.deepEqual(seqsOf(s, "feat-detect"), []);
  assert.deepEqual(seqsOf(s, "feat-config"), []);
});

Deno.test("publish() drops agent.blocked silently when `from` has no inbox", () => {
  const s = fresh();
  publish(s, status("feat-config", "working"), T0);
  const out = publish(
    s,
    blocked("feat-config", "error types", "feat-errors"),
    T0,
  );
  assert.deepEqual(out.deliveredTo, []);
  assert.equal(s.inboxes.has("feat-errors"), false);
  assert.equal(s.lastSeq, 2);
});

Deno.test("poll() since 0 returns every inbox message", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, status("b", "working"), T0);
  for (let i = 0; i < 3; i++) publish(s, artifact("b", "done"), T0);
  const { msgs, lastSeq } = pollMsgs(s, "a", 0);
  assert.equal(msgs.length, 3);
  assert.equal(lastSeq, 5);
});

Deno.test("poll() filters out messages at or below `since`", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, status("b", "working"), T0);
  for (let i = 0; i < 5; i++) publish(s, artifact("b", "done"), T0);
  const r = poll(s, "a", 5);
  assert.deepEqual([...r.seqs], [6, 7]);
  assert.equal(r.lastSeq, 7);
});

Deno.test("poll() at the latest seq returns nothing and keeps the cursor", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, status("b", "working"), T0);
  publish(s, artifact("b", "done"), T0);
  const first = poll(s, "a", 0).lastSeq;
  const r = poll(s, "a", first);
  assert.equal(r.seqs.length, 0);
  // Our difference from the original (which answered 0): the cursor stays.
  assert.equal(r.lastSeq, first);
  assert.equal(first, 3);
});

Deno.test("poll() is non-destructive", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, status("b", "working"), T0);
  publish(s, artifact("b", "done"), T0);
  const r1 = poll(s, "a", 0);
  const r2 = poll(s, "a", 0);
  assert.deepEqual([...r1.seqs], [...r2.seqs]);
  assert.equal(r1.lastSeq, r2.lastSeq);
});

Deno.test("poll() of an unknown agent returns nothing and echoes `since`", () => {
  const s = fresh();
  const r = poll(s, "feat-unknown", 0);
  assert.equal(r.seqs.length, 0);
  assert.equal(r.lastSeq, 0);
  assert.equal(poll(s, "feat-unknown", 42).lastSeq, 42);
});

Deno.test("poll() honours limit and continues from the returned cursor", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  for (let i = 0; i < 10; i++) publish(s, artifact("b", "done"), T0);
  const r1 = poll(s, "a", 0, 4);
  assert.deepEqual([...r1.seqs], [2, 3, 4, 5]);
  const r2 = poll(s, "a", r1.lastSeq, 4);
  assert.deepEqual([...r2.seqs], [6, 7, 8, 9]);
  const r3 = poll(s, "a", r2.lastSeq, 4);
  assert.deepEqual([...r3.seqs], [10, 11]);
});

Deno.test("snapshot() contains every agent on the roster", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, status("b", "idle"), T0);
  publish(s, status("c", "done"), T0);
  assert.deepEqual(snapshot(s, T0).map((r) => r.agent_id), ["a", "b", "c"]);
});

Deno.test("snapshot() reflects the latest status", () => {
  const s = fresh();
  publish(s, status("feat-errors", "working"), T0);
  publish(s, artifact("feat-errors", "done"), T0);
  const row = snapshot(s, T0).find((r) => r.agent_id === "feat-errors");
  assert.equal(row?.status, "done");
});

Deno.test("snapshot() is empty on a fresh state", () => {
  assert.deepEqual(snapshot(fresh(), T0), []);
});

Deno.test("snapshot() reports last_seen_seconds from the given clock, sorted", () => {
  const s = fresh();
  publish(s, status("zed", "working"), T0);
  publish(s, status("alpha", "working"), T0 + 5_000);
  const rows = snapshot(s, T0 + 12_500);
  assert.deepEqual(rows.map((r) => [r.agent_id, r.last_seen_seconds]), [
    ["alpha", 7],
    ["zed", 12],
  ]);
  assert.equal(rows[0]!.summary, "");
});

// The seed's flush tests (flush_writes_messages_to_disk, flush_only_writes_new_entries,
// final_flush_on_handle_drop, no_flush_thread_when_no_log_path,
// disk_failure_does_not_affect_state) are about the shell; their counterparts
// live in tests/broker/store_test.ts. The pure part: the window keeps bodies.

Deno.test("entryInWindow() keeps the newest windowSize entries and forgets older", () => {
  const s = fresh({ windowSize: 4 });
  publish(s, status("a", "working"), T0);
  for (let i = 0; i < 9; i++) publish(s, artifact("b", `s${i}`), T0);
  assert.deepEqual(logSeqs(s), [7, 8, 9, 10]);
  const r = pollWindow(s, "a", 0);
  assert.deepEqual(r.missing, [2, 3, 4, 5, 6]);
  assert.deepEqual(r.entries.map((e) => e.seq), [7, 8, 9, 10]);
  assert.equal(r.lastSeq, 10);
});

Deno.test("publish() gives the first message seq 1", () => {
  const s = fresh();
  const out = publish(s, status("a", "working"), T0);
  publish(s, status("b", "working"), T0);
  assert.equal(out.entry.seq, 1);
  assert.equal(entryInWindow(s, 1)?.message.type, "agent.status");
});

Deno.test("publish() assigns globally monotonic seqs across inboxes", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  publish(s, status("b", "working"), T0);
  publish(s, artifact("a", "done"), T0); // -> b
  publish(s, artifact("b", "done"), T0); // -> a
  assert.deepEqual(seqsOf(s, "b"), [3]);
  assert.deepEqual(seqsOf(s, "a"), [4]);
});

Deno.test("publish() with a forced seq (replay) continues from it", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0, { seq: 41, timestampSecs: 17 });
  const out = publish(s, status("a", "working"), T0);
  assert.equal(out.entry.seq, 42);
  assert.equal(entryInWindow(s, 41)?.timestamp_unix_secs, 17);
  assert.throws(
    () => publish(s, status("a", "x"), T0, { seq: 42 }),
    RangeError,
  );
});

// ---- Counterparts of broker_mod.rs tests ----

Deno.test("createBrokerState() is empty", () => {
  const s = fresh();
  assert.equal(s.agents.size, 0);
  assert.equal(s.inboxes.size, 0);
  assert.equal(s.lastSeq, 0);
  assert.deepEqual(logSeqs(s), []);
});

Deno.test("registerWatch() is idempotent per path and seeds CLI and inbox", () => {
  const s = fresh();
  const target = {
    agent_id: "feat-hot",
    worktree_path: "/tmp/feat-hot",
    cli: "claude",
  };
  assert.equal(registerWatch(s, target), true);
  assert.equal(registerWatch(s, target), false);
  assert.equal(s.watched.size, 1);
  assert.equal(s.clis.get("feat-hot"), "claude");
  assert.ok(s.inboxes.has("feat-hot"));
  // The roster row appears only on first publish.
  assert.equal(s.agents.size, 0);
  assert.deepEqual(watchTargets(s), [target]);
});

Deno.test("forgetWatch() allows the same path to register again", () => {
  const s = fresh();
  const target = { agent_id: "feat-hot", worktree_path: "/tmp/x", cli: null };
  assert.equal(registerWatch(s, target), true);
  assert.equal(forgetWatch(s, "/tmp/x"), true);
  assert.equal(registerWatch(s, target), true);
});

Deno.test("publish() seq counter starts at one and counts up", () => {
  const s = fresh();
  const seqs = [1, 2, 3].map(() =>
    publish(s, status("a", "working"), T0).entry.seq
  );
  assert.deepEqual(seqs, [1, 2, 3]);
});

Deno.test("seedAgent() gives a seeded agent an inbox so peer broadcasts reach it", () => {
  const s = fresh();
  seedAgent(s, "feat-quiet", "codex");
  publish(s, artifact("feat-loud", "committed"), T0);
  assert.deepEqual(seqsOf(s, "feat-quiet"), [1]);
  assert.equal(s.clis.get("feat-quiet"), "codex");
  // A blank CLI never clobbers the map.
  seedAgent(s, "feat-quiet", "");
  assert.equal(s.clis.get("feat-quiet"), "codex");
});

// The learnings dual-output tests of broker_mod.rs exercise the learnings
// aggregator (Coordination's area); the delivery part of them is here.

Deno.test("publish() routes a branch-scoped agent.learning to that branch's inbox", () => {
  const s = fresh();
  const out = publish(
    s,
    msg({
      type: "agent.learning",
      payload: {
        id: "0123456789abcdef",
        agent_id: "supervisor",
        branch_id: "feat/x",
        category: "stuck_duration",
        title: "feat-x was stuck",
        body: "",
        timestamp: "2026-01-01T00:00:00Z",
      },
    }),
    T0,
  );
  assert.deepEqual(out.deliveredTo, ["feat-x"]);
  const { msgs } = pollMsgs(s, "feat-x");
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.type, "agent.learning");
});

Deno.test("publish() routes an unscoped agent.learning to the supervisor (created)", () => {
  const s = fresh();
  const out = publish(
    s,
    msg({
      type: "agent.learning",
      payload: {
        id: "0123456789abcdef",
        agent_id: "supervisor",
        category: "conflict_event",
        title: "conflict on src/a.rs",
        body: "b",
        timestamp: "2026-01-01T00:00:00Z",
      },
    }),
    T0,
  );
  assert.deepEqual(out.deliveredTo, ["supervisor"]);
  assert.equal(s.agents.size, 0, "learning does not touch the roster");
  assert.deepEqual(seqsOf(s, "supervisor"), [1]);
});

Deno.test("publish() delivers each learning exactly once per publish", () => {
  const s = fresh();
  const l = msg({
    type: "agent.learning",
    payload: {
      id: "x",
      agent_id: "feat-x",
      branch_id: null,
      category: "c",
      title: "t",
      body: "",
      timestamp: "2026-01-01T00:00:00Z",
    },
  });
  publish(s, l, T0);
  assert.deepEqual(seqsOf(s, "supervisor"), [1]);
  publish(s, status("feat-x", "working"), T0);
  assert.deepEqual(seqsOf(s, "supervisor"), [1]);
});

// ---- Message types the seeds do not cover ----

Deno.test("publish() broadcasts agent.verified to all inboxes except verified_by", () => {
  const s = fresh();
  for (const id of ["feat-a", "feat-b", "supervisor"]) seedAgent(s, id);
  const out = publish(
    s,
    msg({
      type: "agent.verified",
      agent_id: "feat-a",
      payload: { verified_by: "supervisor", message: "tests pass" },
    }),
    T0,
  );
  assert.deepEqual(out.deliveredTo.sort(), ["feat-a", "feat-b"]);
  assert.deepEqual(seqsOf(s, "supervisor"), []);
  assert.equal(s.agents.size, 0, "verified sets no roster label");
  assert.equal(out.rosterChanged, false);
});

Deno.test("publish() delivers agent.feedback only to the envelope recipient", () => {
  const s = fresh();
  for (const id of ["feat-a", "feat-b"]) seedAgent(s, id);
  const fb = (to: string) =>
    msg({
      type: "agent.feedback",
      agent_id: to,
      payload: { from: "supervisor", errors: ["lint failed"] },
    });
  assert.deepEqual(publish(s, fb("feat-a"), T0).deliveredTo, ["feat-a"]);
  assert.deepEqual(seqsOf(s, "feat-b"), []);
  // Unknown recipient: dropped, no inbox created.
  assert.deepEqual(publish(s, fb("feat-zzz"), T0).deliveredTo, []);
  assert.equal(s.inboxes.has("feat-zzz"), false);
  assert.equal(s.inboxes.has("supervisor"), false);
});

Deno.test("publish() routes agent.question to the supervisor, creating its inbox", () => {
  const s = fresh();
  seedAgent(s, "feat-b");
  const out = publish(
    s,
    msg({
      type: "agent.question",
      agent_id: "feat-a",
      payload: { question: "which port?" },
    }),
    T0,
  );
  assert.deepEqual(out.deliveredTo, ["supervisor"]);
  assert.deepEqual(seqsOf(s, "supervisor"), [1]);
  assert.deepEqual(seqsOf(s, "feat-b"), []);
  assert.equal(s.agents.has("feat-a"), false, "question sets no label");
});

Deno.test("publish() broadcasts agent.intent to peers and labels the sender `intent`", () => {
  const s = fresh();
  seedAgent(s, "feat-b");
  const out = publish(
    s,
    msg({
      type: "agent.intent",
      agent_id: "feat-a",
      payload: {
        files: ["src/a.ts", {
          path: "src/b.ts",
          regions: [{ kind: "function", name: "f" }],
        }],
        summary: "refactor",
      },
    }),
    T0,
  );
  assert.deepEqual(out.deliveredTo, ["feat-b"]);
  assert.equal(s.agents.get("feat-a")?.status, "intent");
  assert.ok(s.inboxes.has("feat-a"), "intent sender gets an inbox");
  const m = entryInWindow(s, 1)!.message;
  assert.equal(m.type === "agent.intent" && m.payload.valid_for_seconds, 900);
});

Deno.test("publish() broadcasts agent.advanced-main to everyone except `from`", () => {
  const s = fresh();
  for (const id of ["feat-a", "feat-b", "supervisor"]) seedAgent(s, id);
  const out = publish(
    s,
    msg({
      type: "agent.advanced-main",
      from: "supervisor",
      merged_branch: "feat/a",
      new_main_sha: "abc123",
      base: "main",
      merged_at: "2026-01-01T00:00:00Z",
    }),
    T0,
  );
  assert.deepEqual(out.deliveredTo.sort(), ["feat-a", "feat-b"]);
  assert.equal(s.agents.size, 0);
});

Deno.test("publish() routes supervisor.verify-now to the supervisor (created)", () => {
  const s = fresh();
  seedAgent(s, "feat-a");
  const out = publish(
    s,
    msg({ type: "supervisor.verify-now", branch_id: "feat/a" }),
    T0,
  );
  assert.deepEqual(out.deliveredTo, ["supervisor"]);
  assert.deepEqual(seqsOf(s, "feat-a"), []);
  assert.equal(s.agents.size, 0);
});

Deno.test("publish() labels an agent.blocked sender `blocked` and gives it an inbox", () => {
  const s = fresh();
  publish(s, blocked("feat-a", "types", "feat-b"), T0);
  assert.equal(s.agents.get("feat-a")?.status, "blocked");
  assert.ok(s.inboxes.has("feat-a"));
});

// ---- Roster sticky labels (§8.4) ----

Deno.test("nextLabel() keeps a terminal label when the new one is not terminal", () => {
  for (const terminal of ["done", "verified", "blocked", "committed"]) {
    const s = fresh({ republishWorkingTtlSeconds: 0 });
    publish(s, status("a", terminal), T0);
    publish(s, status("a", "working"), T0 + 1000);
    assert.equal(s.agents.get("a")?.status, terminal, terminal);
  }
});

Deno.test("nextLabel() replaces a terminal label with another terminal label", () => {
  const s = fresh();
  publish(s, blocked("a", "x", "b"), T0);
  publish(s, artifact("a", "done"), T0);
  assert.equal(s.agents.get("a")?.status, "done");
  publish(s, status("a", "verified"), T0);
  assert.equal(s.agents.get("a")?.status, "verified");
});

Deno.test("nextLabel() lets committed → working through within the TTL only", () => {
  const s = fresh({ republishWorkingTtlSeconds: 60 });
  publish(s, artifact("a", "committed"), T0);
  assert.equal(s.agents.get("a")?.lastCommittedMs, T0);
  publish(s, status("a", "working"), T0 + 59_000);
  assert.equal(s.agents.get("a")?.status, "working");

  const late = fresh({ republishWorkingTtlSeconds: 60 });
  publish(late, artifact("a", "committed"), T0);
  publish(late, status("a", "working"), T0 + 61_000);
  assert.equal(late.agents.get("a")?.status, "committed");

  // Only `working` re-enters; other non-terminal labels do not.
  const other = fresh({ republishWorkingTtlSeconds: 60 });
  publish(other, artifact("a", "committed"), T0);
  publish(other, status("a", "idle"), T0 + 1000);
  assert.equal(other.agents.get("a")?.status, "committed");
});

Deno.test("nextLabel() with TTL 0 never lets committed → working", () => {
  const s = fresh({ republishWorkingTtlSeconds: 0 });
  publish(s, artifact("a", "committed"), T0);
  publish(s, status("a", "working"), T0);
  assert.equal(s.agents.get("a")?.status, "committed");
  // A committed status (not artifact) does not stamp last_committed_at.
  const t = fresh();
  publish(t, status("a", "committed"), T0);
  assert.equal(t.agents.get("a")?.lastCommittedMs, null);
  publish(t, status("a", "working"), T0);
  assert.equal(t.agents.get("a")?.status, "committed");
  assert.equal(nextLabel(t, undefined, "x", T0), "x");
});

Deno.test("publish() fills the CLI from agent.status only when it is empty", () => {
  const s = fresh();
  publish(s, status("a", "working", { cli: "claude" }), T0);
  assert.equal(snapshot(s, T0)[0]!.cli, "claude");
  publish(s, status("a", "working", { cli: "codex" }), T0);
  assert.equal(snapshot(s, T0)[0]!.cli, "claude");
  const t = fresh();
  seedAgent(t, "b", "gemini");
  publish(t, status("b", "working", { cli: "claude" }), T0);
  assert.equal(snapshot(t, T0)[0]!.cli, "gemini");
});

Deno.test("snapshot() reports the last published phase, omitted when none", () => {
  const s = fresh();
  publish(s, status("a", "working"), T0);
  assert.equal("phase" in snapshot(s, T0)[0]!, false);
  publish(s, status("a", "working", { phase: "testing" }), T0);
  assert.equal(snapshot(s, T0)[0]!.phase, "testing");
  publish(s, status("a", "working"), T0);
  assert.equal(snapshot(s, T0)[0]!.phase, "testing");
});

Deno.test("publish() reports rosterChanged only when the roster changed", () => {
  const s = fresh();
  assert.equal(publish(s, status("a", "working"), T0).rosterChanged, true);
  assert.equal(publish(s, status("a", "working"), T0).rosterChanged, false);
  assert.equal(publish(s, status("a", "idle"), T0).rosterChanged, true);
  const q = msg({
    type: "agent.question",
    agent_id: "a",
    payload: { question: "?" },
  });
  assert.equal(publish(s, q, T0).rosterChanged, false);
});

// ---- Helpers ----

Deno.test("upperBound() finds the first seq above `since`", () => {
  const a = Uint32Array.from([2, 5, 9, 12]);
  assert.equal(upperBound(a, 4, 0), 0);
  assert.equal(upperBound(a, 4, 2), 1);
  assert.equal(upperBound(a, 4, 6), 2);
  assert.equal(upperBound(a, 4, 12), 4);
  assert.equal(upperBound(a, 2, 100), 2);
});

Deno.test("poll() stays correct on a large inbox", () => {
  const s = fresh({ windowSize: 16 });
  seedAgent(s, "a");
  for (let i = 0; i < 5000; i++) publish(s, artifact("b", "x"), T0);
  const r = poll(s, "a", 4990, 3);
  assert.deepEqual([...r.seqs], [4991, 4992, 4993]);
  assert.equal(poll(s, "a", 0).seqs.length, 5000);
});

Deno.test("pollJson() returns the message body with its seq", () => {
  const s = fresh();
  const out = publish(s, status("a", "working"), T0);
  const parsed = JSON.parse(pollJson(out.entry));
  assert.equal(parsed.seq, 1);
  assert.equal(parsed.type, "agent.status");
  assert.equal(parsed.payload.status, "working");
});

Deno.test("publish() lets needs_input replace a terminal label, and working replace it", () => {
  const s = fresh();
  publish(s, artifact("feat-a", "committed"), T0);
  publish(s, status("feat-a", "idle"), T0 + 1000);
  assert.equal(snapshot(s, T0)[0]!.status, "committed");
  publish(s, status("feat-a", "needs_input", { message: "Bash: ls" }), T0);
  assert.equal(snapshot(s, T0)[0]!.status, "needs_input");
  assert.equal(nextLabel(s, s.agents.get("feat-a"), "idle", T0), "idle");
});
