import assert from "node:assert/strict";
import {
  type ConflictEffect,
  type ConflictOptions,
  conflictStateSize,
  DEFAULT_CONFLICT_OPTIONS,
  initialConflictState,
  nextConflictDeadline,
  overlapRegions,
  reduceConflict,
  repeatsStatus,
} from "../../lib/core/conflict.ts";
import type { LogEntry } from "../../lib/broker/api.ts";
import { type BrokerMessage, parseMessage } from "../../lib/core/messages.ts";

const T0 = 1_700_000_000_000;
let seq = 0;

function entry(raw: unknown, atMs = T0): LogEntry {
  const p = parseMessage(raw);
  if (!p.ok) throw new Error(JSON.stringify(p.error));
  return {
    seq: ++seq,
    timestamp_unix_secs: Math.floor(atMs / 1000),
    message: p.message,
  };
}

function intent(agent: string, files: unknown[], ttl = 600): unknown {
  return {
    type: "agent.intent",
    agent_id: agent,
    payload: { files, summary: "work", valid_for_seconds: ttl },
  };
}

function status(agent: string, files: string[], st = "working"): unknown {
  return {
    type: "agent.status",
    agent_id: agent,
    payload: { status: st, modified_files: files },
  };
}

function texts(effects: ConflictEffect[]): Array<[string, string, string]> {
  return effects.map((e) => {
    const m = e.message as BrokerMessage;
    if (m.type === "agent.feedback") {
      return [m.type, m.agent_id, m.payload.errors[0]!];
    }
    if (m.type === "agent.question") {
      return [m.type, m.agent_id, m.payload.question];
    }
    throw new Error("unexpected effect");
  });
}

function run(
  events: Array<[unknown, number?]>,
  opts: ConflictOptions = DEFAULT_CONFLICT_OPTIONS,
) {
  const s = initialConflictState();
  const all: ConflictEffect[] = [];
  for (const [raw, at] of events) {
    const now = at ?? T0;
    all.push(
      ...reduceConflict(s, { kind: "entry", entry: entry(raw, now) }, now, opts)
        .effects,
    );
  }
  return { state: s, effects: all };
}

Deno.test("overlapRegions() reports a conflict when either side names no regions", () => {
  const r = overlapRegions(null, [{ kind: "function", name: "f" }]);
  assert.deepEqual(r, { conflict: true, regions: [], hint: null });
});

Deno.test("overlapRegions() matches same-kind regions only by equal names", () => {
  assert.deepEqual(
    overlapRegions(
      [{ kind: "function", name: "parse" }, { kind: "class", name: "A" }],
      [{ kind: "function", name: "parse" }, { kind: "function", name: "A" }],
    ),
    { conflict: true, regions: ["function parse"], hint: null },
  );
  assert.equal(
    overlapRegions(
      [{ kind: "function", name: "a" }],
      [{ kind: "function", name: "b" }],
    ).conflict,
    false,
  );
  assert.equal(
    overlapRegions(
      [{ kind: "block", anchor: "// imports" }],
      [{ kind: "block", anchor: "// imports" }],
    ).regions[0],
    "block // imports",
  );
});

Deno.test("overlapRegions() reports overlapping line ranges as their intersection", () => {
  assert.deepEqual(
    overlapRegions(
      [{ kind: "range", start_line: 10, end_line: 30 }],
      [{ kind: "range", start_line: 25, end_line: 40 }],
    ),
    { conflict: true, regions: ["lines 25-30"], hint: null },
  );
  assert.equal(
    overlapRegions(
      [{ kind: "range", start_line: 1, end_line: 9 }],
      [{ kind: "range", start_line: 10, end_line: 20 }],
    ).conflict,
    false,
  );
});

Deno.test("overlapRegions() always flags named-vs-range with a hint", () => {
  const r = overlapRegions(
    [{ kind: "function", name: "f" }],
    [{ kind: "range", start_line: 500, end_line: 501 }],
  );
  assert.equal(r.conflict, true);
  assert.deepEqual(r.regions, ["function f vs lines 500-501"]);
  assert.match(r.hint ?? "", /named region and a line range/);
});

Deno.test("reduceConflict() warns both agents once about overlapping intents", () => {
  const { effects, state } = run([
    [intent("feat-a", ["src/x.ts", "src/only-a.ts"])],
    [intent("feat-b", ["src/x.ts"])],
    [intent("feat-b", ["src/x.ts"])], // same set again: no repeat
  ]);
  assert.deepEqual(texts(effects), [
    [
      "agent.feedback",
      "feat-b",
      "[conflict-detector] forward conflict: agent feat-a also intends to modify: src/x.ts",
    ],
    [
      "agent.feedback",
      "feat-a",
      "[conflict-detector] forward conflict: agent feat-b also intends to modify: src/x.ts",
    ],
  ]);
  for (const e of effects) {
    assert.equal(
      (e.message as { payload: { from: string } }).payload.from,
      "supervisor",
    );
  }
  assert.equal(conflictStateSize(state).forwardWarned, 1);
});

Deno.test("reduceConflict() re-arms a pair when an intent's file set changes", () => {
  const { effects } = run([
    [intent("feat-a", ["x"])],
    [intent("feat-b", ["x"])],
    [intent("feat-b", ["x", "y"])],
  ]);
  assert.equal(effects.length, 4);
});

Deno.test("reduceConflict() includes regions and skips disjoint ones", () => {
  const { effects } = run([
    [intent("feat-a", [{
      path: "m.ts",
      regions: [{ kind: "range", start_line: 1, end_line: 50 }],
    }, { path: "n.ts", regions: [{ kind: "function", name: "g" }] }])],
    [intent("feat-b", [{
      path: "m.ts",
      regions: [{ kind: "range", start_line: 40, end_line: 90 }],
    }, { path: "n.ts", regions: [{ kind: "function", name: "h" }] }])],
  ]);
  assert.deepEqual(texts(effects).map((t) => t[2]), [
    "[conflict-detector] forward conflict: agent feat-a also intends to modify: m.ts (regions: lines 40-50)",
    "[conflict-detector] forward conflict: agent feat-b also intends to modify: m.ts (regions: lines 40-50)",
  ]);
});

Deno.test("reduceConflict() says nothing about intents with disjoint regions", () => {
  const { effects } = run([
    [intent("feat-a", [{
      path: "m.ts",
      regions: [{ kind: "class", name: "A" }],
    }])],
    [intent("feat-b", [{
      path: "m.ts",
      regions: [{ kind: "class", name: "B" }],
    }])],
  ]);
  assert.deepEqual(effects, []);
});

Deno.test("reduceConflict() ignores expired intents and drops them from state", () => {
  const { effects, state } = run([
    [intent("feat-a", ["x"], 10)],
    [intent("feat-b", ["x"]), T0 + 11_000],
  ]);
  assert.deepEqual(effects, []);
  assert.equal(state.intents.has("feat-a"), false);
});

Deno.test("reduceConflict() can turn the forward rule off", () => {
  const { effects } = run([
    [intent("feat-a", ["x"])],
    [intent("feat-b", ["x"])],
  ], { ...DEFAULT_CONFLICT_OPTIONS, warnOnIntentOverlap: false });
  assert.deepEqual(effects, []);
});

Deno.test("reduceConflict() warns both agents of an in-flight overlap once per file", () => {
  const { effects } = run([
    [status("feat-a", ["a.ts", "b.ts"])],
    [status("feat-b", ["b.ts"])],
    [status("feat-b", ["b.ts", "c.ts"])],
  ]);
  assert.deepEqual(texts(effects), [
    [
      "agent.feedback",
      "feat-b",
      "[conflict-detector] in-flight conflict: file b.ts is being modified by both you and feat-a",
    ],
    [
      "agent.feedback",
      "feat-a",
      "[conflict-detector] in-flight conflict: file b.ts is being modified by both you and feat-b",
    ],
  ]);
});

Deno.test("reduceConflict() escalates an unresolved in-flight overlap after the window, once", () => {
  const opts = { ...DEFAULT_CONFLICT_OPTIONS, windowSeconds: 120 };
  const s = initialConflictState();
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-a", ["f"])) },
    T0,
    opts,
  );
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-b", ["f"])) },
    T0,
    opts,
  );
  assert.equal(nextConflictDeadline(s, opts), T0 + 120_000);
  assert.deepEqual(
    reduceConflict(s, { kind: "tick" }, T0 + 119_000, opts).effects,
    [],
  );
  const due = reduceConflict(s, { kind: "tick" }, T0 + 120_000, opts).effects;
  assert.deepEqual(texts(due), [[
    "agent.question",
    "supervisor",
    "[conflict-detector] in-flight conflict on f between feat-a and feat-b has not resolved within 120s. Human input requested.",
  ]]);
  assert.deepEqual(
    reduceConflict(s, { kind: "tick" }, T0 + 500_000, opts).effects,
    [],
  );
  assert.equal(nextConflictDeadline(s, opts), null);
});

Deno.test("reduceConflict() drops an in-flight overlap when a side stops listing the file", () => {
  const opts = DEFAULT_CONFLICT_OPTIONS;
  const s = initialConflictState();
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-a", ["f"])) },
    T0,
    opts,
  );
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-b", ["f"])) },
    T0,
    opts,
  );
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-b", [])) },
    T0,
    opts,
  );
  assert.equal(s.inFlight.size, 0);
  assert.equal(s.modified.has("feat-b"), false);
  assert.deepEqual(
    reduceConflict(s, { kind: "tick" }, T0 + 999_000, opts).effects,
    [],
  );
});

Deno.test("reduceConflict() treats committed files as no longer in flight", () => {
  const opts = DEFAULT_CONFLICT_OPTIONS;
  const s = initialConflictState();
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-a", ["f", "g"])) },
    T0,
    opts,
  );
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-b", ["f"])) },
    T0,
    opts,
  );
  reduceConflict(
    s,
    {
      kind: "entry",
      entry: entry({
        type: "agent.artifact",
        agent_id: "feat-a",
        payload: { status: "committed", exports: [], modified_files: ["f"] },
      }),
    },
    T0,
    opts,
  );
  assert.equal(s.inFlight.size, 0);
  assert.deepEqual([...s.modified.get("feat-a")!], ["g"]);
});

Deno.test("reduceConflict() ignores statuses that do not report the working set", () => {
  const { state } = run([
    [status("feat-a", ["f"])],
    [status("feat-a", [], "auto_approved")],
  ]);
  assert.deepEqual([...state.modified.get("feat-a")!], ["f"]);
});

Deno.test("reduceConflict() keeps the working set through a CLI hook's or the screen's statuses", () => {
  for (const source of ["cli_event", "screen"]) {
    const { state } = run([
      [status("feat-a", ["f"])],
      ...["needs_input", "working", "idle"].map((st) =>
        [{
          type: "agent.status",
          agent_id: "feat-a",
          payload: {
            status: st,
            modified_files: [],
            message: "Bash: ls",
            detail: { source },
          },
        }] as [unknown]
      ),
    ]);
    assert.deepEqual([...state.modified.get("feat-a")!], ["f"], source);
  }
});

Deno.test("reduceConflict() reports an ownership violation once with an escalation", () => {
  const { effects } = run([
    [intent("feat-owner", ["lib/core.ts"])],
    [status("feat-x", ["lib/core.ts"])],
    [status("feat-x", ["lib/core.ts", "other.ts"])],
  ]);
  assert.deepEqual(texts(effects), [
    [
      "agent.feedback",
      "feat-x",
      "[conflict-detector] ownership violation: you edited lib/core.ts but agent feat-owner declared intent over it. Update your agent.intent to declare this file or back off.",
    ],
    [
      "agent.question",
      "supervisor",
      "[conflict-detector] ownership violation: feat-x edited lib/core.ts which is in feat-owner's intent. Human review requested.",
    ],
  ]);
});

Deno.test("reduceConflict() does not flag files the editor's own intent claims", () => {
  const { effects } = run([
    [intent("feat-owner", ["f"])],
    [intent("feat-x", ["f"])],
    [status("feat-x", ["f"])],
  ], { ...DEFAULT_CONFLICT_OPTIONS, warnOnIntentOverlap: false });
  assert.deepEqual(effects, []);
});

Deno.test("reduceConflict() skips the question when escalate_on_violation is off", () => {
  const { effects } = run([
    [intent("feat-owner", ["f"])],
    [status("feat-x", ["f"])],
  ], { ...DEFAULT_CONFLICT_OPTIONS, escalateOnViolation: false });
  assert.deepEqual(texts(effects).map((t) => t[0]), ["agent.feedback"]);
});

Deno.test("reduceConflict() forgets violations when the owning intent expires", () => {
  const opts = DEFAULT_CONFLICT_OPTIONS;
  const s = initialConflictState();
  reduceConflict(
    s,
    { kind: "entry", entry: entry(intent("feat-o", ["f"], 60)) },
    T0,
    opts,
  );
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-x", ["f"])) },
    T0,
    opts,
  );
  assert.equal(s.violations.size, 1);
  reduceConflict(s, { kind: "tick" }, T0 + 61_000, opts);
  assert.deepEqual(conflictStateSize(s), {
    intents: 0,
    modified: 1,
    forwardWarned: 0,
    inFlight: 0,
    violations: 0,
  });
});

Deno.test("reduceConflict() ignores its own feedback and questions", () => {
  const { effects, state } = run([
    [{
      type: "agent.feedback",
      agent_id: "feat-a",
      payload: { from: "supervisor", errors: ["[conflict-detector] x"] },
    }],
    [{
      type: "agent.question",
      agent_id: "supervisor",
      payload: { question: "[conflict-detector] y" },
    }],
  ]);
  assert.deepEqual(effects, []);
  assert.equal(state.modified.size, 0);
});

Deno.test("reduceConflict() keeps state bounded under the caps", () => {
  const opts = {
    ...DEFAULT_CONFLICT_OPTIONS,
    maxFilesPerAgent: 10,
    maxTracked: 5,
  };
  const files = Array.from({ length: 50 }, (_, i) => `f${i}`);
  const s = initialConflictState();
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-a", files)) },
    T0,
    opts,
  );
  reduceConflict(
    s,
    { kind: "entry", entry: entry(status("feat-b", files)) },
    T0,
    opts,
  );
  assert.equal(s.modified.get("feat-a")!.size, 10);
  assert.ok(s.inFlight.size <= 5);
});

Deno.test("reduceConflict() on a repeated file list: no second warning, but a changed list and a new intent still count", () => {
  const { effects } = run([
    [status("feat-a", ["src/x.ts"])],
    [status("feat-b", ["src/x.ts"])],
    // Heartbeats with the same files: the overlap was already reported.
    [status("feat-a", ["src/x.ts"])],
    [status("feat-b", ["src/x.ts"])],
    // feat-b moves on to another file too: a new overlap with feat-a there.
    [status("feat-a", ["src/x.ts", "src/y.ts"])],
    [status("feat-b", ["src/y.ts"])],
    // feat-c declares src/x.ts; feat-a's next heartbeat is a violation.
    [intent("feat-c", ["src/x.ts"])],
    [status("feat-a", ["src/x.ts", "src/y.ts"])],
  ]);
  const t = texts(effects).map(([, to, text]) => `${to}: ${text}`);
  assert.deepEqual(t.map((l) => l.replace(/ is being.*| but agent.*/, "")), [
    "feat-b: [conflict-detector] in-flight conflict: file src/x.ts",
    "feat-a: [conflict-detector] in-flight conflict: file src/x.ts",
    "feat-b: [conflict-detector] in-flight conflict: file src/y.ts",
    "feat-a: [conflict-detector] in-flight conflict: file src/y.ts",
    "feat-a: [conflict-detector] ownership violation: you edited src/x.ts",
    "supervisor: [conflict-detector] ownership violation: feat-a edited src/x.ts which is in feat-c's intent. Human review requested.",
  ]);
});

Deno.test("repeatsStatus() says yes only for the same agent's same status, files and no detail, with no intent held", () => {
  const s = initialConflictState();
  const m = (raw: unknown) => entry(raw).message;
  const a = m(status("a", ["x", "y"]));
  assert.equal(repeatsStatus(s, a, m(status("a", ["x", "y"]))), true);
  assert.equal(repeatsStatus(s, a, m(status("a", ["y", "x"]))), false);
  assert.equal(repeatsStatus(s, a, m(status("a", ["x"]))), false);
  assert.equal(repeatsStatus(s, a, m(status("b", ["x", "y"]))), false);
  assert.equal(repeatsStatus(s, a, m(status("a", ["x", "y"], "done"))), false);
  const detail = {
    type: "agent.status",
    agent_id: "a",
    payload: { status: "working", modified_files: ["x", "y"], detail: {} },
  };
  assert.equal(repeatsStatus(s, a, m(detail)), false);
  assert.equal(repeatsStatus(s, m(intent("a", ["x"])), a), false);
  reduceConflict(
    s,
    { kind: "entry", entry: entry(intent("b", ["z"])) },
    T0,
    DEFAULT_CONFLICT_OPTIONS,
  );
  assert.equal(repeatsStatus(s, a, m(status("a", ["x", "y"]))), false);
});

Deno.test("reduceConflict() gives the same effects and state when repeats within one instant are skipped (the detector's batches)", () => {
  // A seeded pseudo-random log: three agents, overlapping files, repeated
  // heartbeats, intents coming and expiring, commits, time moving in steps
  // past the escalation window.
  let x = 12345;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const agents = ["a", "b", "c"];
  const files = ["f1", "f2", "f3", "f4"];
  const opts: ConflictOptions = {
    ...DEFAULT_CONFLICT_OPTIONS,
    windowSeconds: 2,
  };
  const log: Array<{ e: LogEntry; now: number }> = [];
  let now = T0;
  let last: unknown = status("a", ["f1"]);
  for (let i = 0; i < 3000; i++) {
    if (rnd(10) === 0) now += 500 * (1 + rnd(4)); // a new batch, later
    const agent = agents[rnd(3)]!;
    const k = rnd(20);
    let raw: unknown;
    if (k < 9) raw = last; // a heartbeat of the last status
    else if (k < 16) {
      raw = status(
        agent,
        files.filter(() => rnd(3) === 0),
        rnd(4) ? "working" : "done",
      );
    } else if (k < 17 && rnd(3) === 0) {
      raw = intent(agent, [files[rnd(4)]!], 1 + rnd(3));
    } else if (k < 18) {
      raw = {
        type: "agent.artifact",
        agent_id: agent,
        payload: {
          status: "committed",
          exports: [],
          modified_files: [files[rnd(4)]!],
        },
      };
    } else raw = status(agent, [], rnd(2) ? "working" : "idle");
    if ((raw as { type: string }).type === "agent.status") last = raw;
    log.push({ e: entry(raw, now), now });
  }
  const full = initialConflictState();
  const fullFx: ConflictEffect[] = [];
  for (const { e, now } of log) {
    fullFx.push(
      ...reduceConflict(full, { kind: "entry", entry: e }, now, opts).effects,
    );
  }
  const skip = initialConflictState();
  const skipFx: ConflictEffect[] = [];
  let prev: LogEntry | null = null;
  let prevNow = 0;
  let skipped = 0;
  for (const { e, now } of log) {
    if (
      prev && now === prevNow && repeatsStatus(skip, prev.message, e.message)
    ) {
      skipped++;
      continue;
    }
    const fx =
      reduceConflict(skip, { kind: "entry", entry: e }, now, opts).effects;
    skipFx.push(...fx);
    prev = fx.length ? null : e;
    prevNow = now;
  }
  assert.ok(skipped > 200, `only ${skipped} repeats skipped`);
  assert.ok(fullFx.length > 100, `only ${fullFx.length} warnings`);
  assert.deepEqual(texts(skipFx), texts(fullFx));
  assert.deepEqual(skip, full);
});
