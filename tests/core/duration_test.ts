import assert from "node:assert/strict";
import { formatDuration } from "../../lib/core/duration.ts";

Deno.test("formatDuration() gives Ns / Nm / Nh Mm of whole seconds", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(59.9), "59s");
  assert.equal(formatDuration(60), "1m");
  assert.equal(formatDuration(3599), "59m");
  assert.equal(formatDuration(3600 + 5 * 60 + 7), "1h 5m");
  assert.equal(formatDuration(26 * 3600), "26h 0m");
});

Deno.test("formatDuration() treats negative and non-finite input as 0", () => {
  assert.equal(formatDuration(-3), "0s");
  assert.equal(formatDuration(Number.NaN), "0s");
  assert.equal(formatDuration(Infinity, { precise: true }), "0s");
});

Deno.test("formatDuration({ precise }) keeps every unit, two-digit padded", () => {
  assert.equal(formatDuration(45, { precise: true }), "45s");
  assert.equal(formatDuration(672, { precise: true }), "11m12s");
  assert.equal(formatDuration(3723, { precise: true }), "1h02m03s");
  assert.equal(formatDuration(60, { precise: true }), "1m00s");
});
