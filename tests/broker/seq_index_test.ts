import assert from "node:assert/strict";
import { SeqIndex } from "../../lib/broker/seq_index.ts";

Deno.test("SeqIndex.offset() recovers every offset across blocks and pages", () => {
  const idx = new SeqIndex();
  const offsets: number[] = [];
  let at = 0;
  for (let seq = 1; seq <= 70_000; seq++) {
    const len = 50 + (seq % 37);
    offsets[seq] = at;
    idx.set(seq, at, len);
    at += len;
  }
  for (
    const seq of [1, 2, 63, 64, 65, 4095, 4096, 65_535, 65_536, 65_537, 70_000]
  ) {
    assert.equal(idx.offset(seq), offsets[seq], `seq ${seq}`);
    assert.ok(idx.has(seq));
  }
  assert.equal(idx.has(70_001), false);
  assert.equal(idx.offset(0), -1);
});

Deno.test("SeqIndex keeps offsets exact when seqs or bytes are skipped", () => {
  const idx = new SeqIndex();
  idx.set(1, 0, 10);
  // 7 bytes of garbage at 10..16, then seq 3 (seq 2 missing).
  idx.set(3, 17, 10);
  idx.set(64, 27, 5);
  idx.set(65, 32, 5);
  assert.equal(idx.offset(1), 0);
  assert.equal(idx.span(1), 17, "span runs to the next indexed line");
  assert.equal(idx.has(2), false);
  assert.equal(idx.offset(3), 17);
  assert.equal(idx.offset(64), 27);
  assert.equal(idx.offset(65), 32);
});
