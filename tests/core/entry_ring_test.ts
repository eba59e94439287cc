import assert from "node:assert/strict";
import { EntryRing } from "../../lib/core/entry_ring.ts";

const status = (agent: string, n: number) => ({
  type: "agent.status" as const,
  agent_id: agent,
  payload: { status: "working", message: `step ${n}`, modified_files: [] },
});

Deno.test("EntryRing keeps the newest entries and, of older ones, the newest per key", () => {
  const ring = new EntryRing(3);
  // seq 1..7: a a b a c b a
  const agents = ["a", "a", "b", "a", "c", "b", "a"];
  agents.forEach((a, i) =>
    ring.push(i + 1, 100 + i, JSON.stringify(status(a, i + 1)), a)
  );
  assert.equal(ring.size, 3 + 2);
  const out = ring.drain();
  // Pushed out: 1(a) 2(a) 3(b) 4(a) → newest per key in seq order: b@3, a@4;
  // then the ring's 5 6 7. Key c only in the ring.
  assert.deepEqual(out.map((e) => e.seq), [3, 4, 5, 6, 7]);
  assert.deepEqual(out.map((e) => e.timestamp_unix_secs), [
    102,
    103,
    104,
    105,
    106,
  ]);
  assert.deepEqual(out[1]!.message, status("a", 4));
  assert.deepEqual(out[4]!.message, status("a", 7));
  assert.equal(ring.size, 0);
  assert.deepEqual(ring.drain(), []);
});

Deno.test("EntryRing after a drain starts over, and a capacity below 1 holds one", () => {
  const ring = new EntryRing(2);
  ring.push(1, 1, JSON.stringify(status("a", 1)), "a");
  assert.deepEqual(ring.drain().map((e) => e.seq), [1]);
  ring.push(2, 2, JSON.stringify(status("b", 2)), "b");
  ring.push(3, 3, JSON.stringify(status("c", 3)), "c");
  ring.push(4, 4, JSON.stringify(status("b", 4)), "b");
  assert.deepEqual(ring.drain().map((e) => e.seq), [2, 3, 4]);
  const tiny = new EntryRing(0);
  tiny.push(1, 1, JSON.stringify(status("a", 1)), "a");
  tiny.push(2, 2, JSON.stringify(status("a", 2)), "a");
  tiny.push(3, 3, JSON.stringify(status("b", 3)), "b");
  // Ring of one: 3; pushed out: a's newest (2).
  assert.deepEqual(tiny.drain().map((e) => e.seq), [2, 3]);
});
