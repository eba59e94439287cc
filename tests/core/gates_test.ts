/** The gates' pure parts: which commands, in which order, the texts, the queue. */
import assert from "node:assert/strict";
import { defaultConfig } from "../../lib/core/config.ts";
import {
  gateFailureText,
  gateQueue,
  gatesOf,
  outputTail,
  stepGates,
  TAIL_LINES,
} from "../../lib/core/gates.ts";

Deno.test("gatesOf() lists the configured [supervisor] gates in run order, split with shell word rules", () => {
  const c = defaultConfig();
  assert.deepEqual(gatesOf(c), { gates: [], errors: [] });
  c.supervisor.lint_command = "deno lint";
  c.supervisor.test_command = "sh -c 'deno test -A'";
  c.supervisor.doc_tool_command = "mdbook"; // a tool, not a gate
  c.supervisor.fmt_check_command = "  ";
  assert.deepEqual(gatesOf(c).gates, [
    { key: "test_command", argv: ["sh", "-c", "deno test -A"] },
    { key: "lint_command", argv: ["deno", "lint"] },
  ]);
  c.supervisor.build_command = "make 'unclosed";
  const r = gatesOf(c);
  assert.equal(r.gates.length, 2);
  assert.match(r.errors[0]!, /^\[supervisor\] build_command: /);
});

Deno.test("outputTail() keeps the last lines, bounded", () => {
  const out = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
  const tail = outputTail(out + "\n\n");
  assert.equal(tail.split("\n").length, TAIL_LINES);
  assert.ok(tail.endsWith("line 99"));
  assert.ok(outputTail("x".repeat(10_000)).length <= 4001);
});

Deno.test("gateFailureText() names the gate, the command, the commit and quotes the tail", () => {
  const t = gateFailureText({
    gate: { key: "test_command", argv: ["deno", "test"] },
    code: 1,
    output: "ok 1\nFAILED 2\n",
    timedOut: false,
  }, "0123456789abcdef0123");
  assert.equal(
    t,
    "[git-paw-gate] test_command `deno test` failed (exit 1) on commit 0123456789ab:\nok 1\nFAILED 2",
  );
});

Deno.test("stepGates() runs one check per agent, the newest commit wins, a commit once", () => {
  const q = gateQueue(2);
  assert.deepEqual(stepGates(q, { kind: "commit", agent: "a", commit: "1" }), [
    { kind: "start", agent: "a", commit: "1" },
  ]);
  // Same commit again (hook and watcher): nothing.
  assert.deepEqual(
    stepGates(q, { kind: "commit", agent: "a", commit: "1" }),
    [],
  );
  // Newer commits while a runs: abort it; only the newest waits.
  assert.deepEqual(stepGates(q, { kind: "commit", agent: "a", commit: "2" }), [
    { kind: "abort", agent: "a" },
  ]);
  assert.deepEqual(stepGates(q, { kind: "commit", agent: "a", commit: "3" }), [
    { kind: "abort", agent: "a" },
  ]);
  // Another agent runs beside it; a third waits for a slot.
  assert.deepEqual(stepGates(q, { kind: "commit", agent: "b", commit: "9" }), [
    { kind: "start", agent: "b", commit: "9" },
  ]);
  assert.deepEqual(
    stepGates(q, { kind: "commit", agent: "c", commit: "5" }),
    [],
  );
  assert.deepEqual(stepGates(q, { kind: "finished", agent: "a" }), [
    { kind: "start", agent: "a", commit: "3" },
  ]);
  assert.deepEqual(stepGates(q, { kind: "finished", agent: "b" }), [
    { kind: "start", agent: "c", commit: "5" },
  ]);
});
