import assert from "node:assert/strict";
import { Deadlines } from "../../lib/broker/deadlines.ts";

Deno.test("Deadlines fires what was not cancelled, in order", async () => {
  const d = new Deadlines(30);
  const fired: string[] = [];
  const cancelA = d.add(() => fired.push("a"));
  d.add(() => fired.push("b"));
  const cancelC = d.add(() => fired.push("c"));
  d.add(() => fired.push("d"));
  cancelA();
  cancelC();
  cancelC(); // idempotent
  assert.equal(d.pending, 2);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(fired, ["b", "d"]);
  assert.equal(d.pending, 0);
});

Deno.test("Deadlines added later wait their own full time, not the head's", async () => {
  const d = new Deadlines(60);
  const fired: Array<{ name: string; at: number }> = [];
  const t0 = performance.now();
  d.add(() => fired.push({ name: "first", at: performance.now() - t0 }));
  await new Promise((r) => setTimeout(r, 40));
  d.add(() => fired.push({ name: "second", at: performance.now() - t0 }));
  await new Promise((r) => setTimeout(r, 40));
  // 80 ms in: the first (due at 60) fired, the second (due at 100) not yet.
  assert.deepEqual(fired.map((f) => f.name), ["first"]);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(fired.map((f) => f.name), ["first", "second"]);
  assert.ok(fired[1]!.at >= 100, `second fired at ${fired[1]!.at} ms`);
});

Deno.test("Deadlines cancelled in any order are all gone, and clear() stops the timer", () => {
  const d = new Deadlines(10_000);
  const cancels: Array<() => void> = [];
  for (let i = 0; i < 5000; i++) cancels.push(d.add(() => {}));
  // Settle the odd ones first, then the even ones (out of order).
  for (let i = 1; i < cancels.length; i += 2) cancels[i]!();
  assert.equal(d.pending, 2500);
  for (let i = 0; i < cancels.length; i += 2) cancels[i]!();
  assert.equal(d.pending, 0);
  // A deadline added now is still honoured (the queue restarted cleanly).
  let late = false;
  d.add(() => late = true);
  assert.equal(d.pending, 1);
  d.clear();
  assert.equal(d.pending, 0);
  assert.equal(late, false);
});

Deno.test("Deadlines.clear() cancels everything", async () => {
  const d = new Deadlines(20);
  let fired = 0;
  d.add(() => fired++);
  d.add(() => fired++);
  d.clear();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fired, 0);
  assert.equal(d.pending, 0);
});
