/** Branch names that would give two agents, or an agent and the supervisor, one id. */
import assert from "node:assert/strict";
import { reservedBranchProblem, slugify } from "../../lib/core/slug.ts";
import { makeWorld, startDemoNoBroker, statusJson } from "./e2e_helpers.ts";

Deno.test("reservedBranchProblem() refuses branches whose agent id is the supervisor's", () => {
  assert.match(reservedBranchProblem("supervisor")!, /reserved/);
  assert.match(reservedBranchProblem("Supervisor")!, /'Supervisor'.*reserved/);
  assert.equal(reservedBranchProblem("feat/supervisor"), null);
  assert.equal(reservedBranchProblem("supervisors"), null);
  // An upper-case letter and a letter with a combining accent share an id.
  assert.equal(slugify("A"), slugify("a\u0301"));
});

Deno.test("git paw start refuses a branch named supervisor and colliding agent ids", async () => {
  await using w = await makeWorld({ project: "proj" });
  const start = (branches: string) =>
    w.paw(["start", "--no-broker", "--cli", "demo", "--branches", branches]);
  const sup = await start("feat/a,supervisor");
  assert.equal(sup.code, 2, sup.stderr);
  assert.equal(
    sup.stderr.trim().split("\n").length,
    1,
    `one line: ${sup.stderr}`,
  );
  assert.match(sup.stderr, /'supervisor'.*reserved for the supervisor/);
  const clash = await start("A,a\u0301");
  assert.equal(clash.code, 2, clash.stderr);
  assert.match(clash.stderr, /'A' and 'a\u0301' would share the agent id 'a'/);
  // Nothing was started.
  assert.deepEqual(await statusJson(w), { session: null });
});

Deno.test("git paw add refuses a branch named supervisor", async () => {
  await using w = await makeWorld({ project: "proj" });
  await startDemoNoBroker(w, "feat/a");
  const r = await w.paw(["add", "Supervisor"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /'Supervisor'.*reserved for the supervisor/);
  const accent = await w.paw(["add", "Feat/A"]);
  assert.equal(accent.code, 2, accent.stderr);
  assert.match(accent.stderr, /share the agent id 'feat-a'/);
});
