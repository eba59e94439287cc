import assert from "node:assert/strict";
import {
  combinationSearch,
  failingLines,
  initialLaneState,
  integrationTestArgv,
  reduceLane,
  type SearchResult,
} from "../../lib/core/integration.ts";
import { ConfigSchema } from "../../lib/core/config.ts";

function drive(
  agents: string[],
  fails: (set: string[]) => boolean,
): { result: SearchResult; probes: string[][] } {
  const probes: string[][] = [];
  const g = combinationSearch(agents);
  let step = g.next();
  while (!step.done) {
    probes.push(step.value);
    step = g.next(!fails(step.value));
  }
  return { result: step.value, probes };
}

Deno.test("combinationSearch() stops at a green union", () => {
  const { result, probes } = drive(["a", "b", "c"], () => false);
  assert.deepEqual(result, { kind: "green" });
  assert.deepEqual(probes, [["a", "b", "c"]]);
});

Deno.test("combinationSearch() tries each alone, then pairs, and names the failing pair", () => {
  const { result, probes } = drive(
    ["a", "b", "c"],
    (s) => s.includes("a") && s.includes("c"),
  );
  assert.deepEqual(result, {
    kind: "combination",
    sets: [["a", "c"]],
    failingAlone: [],
  });
  assert.deepEqual(probes, [
    ["a", "b", "c"],
    ["a"],
    ["b"],
    ["c"],
    ["a", "b"],
    ["a", "c"],
    ["b", "c"],
  ]);
});

Deno.test("combinationSearch() leaves branches failing alone to themselves", () => {
  const { result } = drive(["a", "b", "c"], (s) => s.includes("b"));
  assert.deepEqual(result, { kind: "own", failingAlone: ["b"] });
});

Deno.test("combinationSearch() shrinks to a failing triple when every pair passes", () => {
  const bad = (s: string[]) => ["b", "c", "d"].every((x) => s.includes(x));
  const { result } = drive(["a", "b", "c", "d", "e"], bad);
  assert.deepEqual(result, {
    kind: "combination",
    sets: [["b", "c", "d"]],
    failingAlone: [],
  });
});

Deno.test("reduceLane() aborts a running check on a commit and queues one check", () => {
  let s = initialLaneState();
  let r = reduceLane(s, { kind: "commit" });
  assert.deepEqual(r.effects, [{ kind: "start", generation: 1 }]);
  s = r.state;
  r = reduceLane(s, { kind: "commit" });
  assert.deepEqual(r.effects, [{ kind: "abort", generation: 1 }]);
  s = r.state;
  r = reduceLane(s, { kind: "commit" }); // a second commit: same queued check
  assert.deepEqual(r.effects, []);
  s = r.state;
  r = reduceLane(s, { kind: "finished" });
  assert.deepEqual(r.effects, [{ kind: "start", generation: 2 }]);
  s = r.state;
  r = reduceLane(s, { kind: "finished" });
  assert.deepEqual(r.effects, []);
  assert.equal(r.state.running, false);
  assert.equal(r.state.superseded, 1);
});

Deno.test("integrationTestArgv() prefers [integration], splits strings, falls back to [supervisor]", () => {
  const c = (f: unknown) => ConfigSchema.parse(f);
  assert.equal(integrationTestArgv(c({})), null);
  assert.deepEqual(
    integrationTestArgv(c({ supervisor: { test_command: "deno task test" } })),
    ["deno", "task", "test"],
  );
  assert.deepEqual(
    integrationTestArgv(c({
      supervisor: { test_command: "x" },
      integration: { test_command: "sh -c './check.sh --fast'" },
    })),
    ["sh", "-c", "./check.sh --fast"],
  );
  assert.deepEqual(
    integrationTestArgv(c({ integration: { test_command: ["a b", "c"] } })),
    ["a b", "c"],
  );
});

Deno.test("failingLines() quotes lines that look like failures, else the last lines", () => {
  assert.deepEqual(
    failingLines("ok 1\n./x.sh: 1: greet: not found\nFAIL: t\nok\n"),
    ["./x.sh: 1: greet: not found", "FAIL: t"],
  );
  assert.deepEqual(failingLines("a\nb\n\n", 1), ["b"]);
});
