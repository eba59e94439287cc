import assert from "node:assert/strict";
import {
  ancestors,
  cpuTicksOf,
  descendants,
  endProcesses,
  parseStat,
  processesWithEnv,
  processTable,
  type ProcInfo,
} from "../../lib/adapters/proc_tree.ts";

Deno.test("parseStat() reads parent, state and start time past a command name with spaces and parens", () => {
  const line = "4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 " +
    "1 2 3 4 5 6 7 8 20 0 1 0 987654 1000 10 0";
  assert.deepEqual(parseStat(line), { ppid: 17, start: "987654", state: "S" });
  assert.equal(parseStat("garbage"), null);
});

Deno.test("cpuTicksOf() adds utime and stime past a command name with spaces and parens", () => {
  const line = "4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 " +
    "1 2 3 4 5 6 7 8 20 0 1 0 987654 1000 10 0";
  assert.equal(cpuTicksOf(line), 11);
  assert.equal(cpuTicksOf("garbage"), null);
  assert.equal(cpuTicksOf("1 (x) S 0"), null);
});

Deno.test("descendants() and ancestors() walk the table both ways", () => {
  const t = new Map<number, ProcInfo>([
    [1, { ppid: 0, start: "1", state: "S" }],
    [10, { ppid: 1, start: "2", state: "S" }],
    [11, { ppid: 10, start: "3", state: "S" }],
    [12, { ppid: 11, start: "4", state: "S" }],
    [20, { ppid: 1, start: "5", state: "S" }],
  ]);
  assert.deepEqual([...descendants(t, [10])].sort(), [10, 11, 12]);
  assert.deepEqual([...descendants(t, [99])], []);
  assert.deepEqual([...ancestors(t, 12)].sort((a, b) => a - b), [
    1,
    10,
    11,
    12,
  ]);
});

Deno.test("endProcesses() ends a process that ignores SIGTERM, and processesWithEnv() finds it by all of its env entries", async () => {
  if (!(await Deno.stat("/proc/self").catch(() => null))) return;
  const id = crypto.randomUUID();
  const spawn = (env: Record<string, string>) =>
    new Deno.Command("sh", {
      // `read` is a builtin: the shell has no child (a `sleep` child would
      // carry the same env and be found too).
      args: ["-c", "trap '' TERM HUP; read x"],
      env,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
  // Same session name, another repo: not ours.
  const other = spawn({ PAW_TEST_TAG: id, PAW_TEST_REPO: "/elsewhere" });
  const child = spawn({ PAW_TEST_TAG: id, PAW_TEST_REPO: "/here" });
  try {
    const table = await processTable();
    const found = await processesWithEnv(table, [
      `PAW_TEST_TAG=${id}`,
      "PAW_TEST_REPO=/here",
    ]);
    assert.deepEqual([...found], [child.pid], "found by its env");
    assert.equal((await processesWithEnv(table, [])).size, 0);
    const killed = await endProcesses(table, [child.pid], 300);
    assert.deepEqual(killed, [child.pid], "SIGTERM ignored, SIGKILL needed");
    const st = await child.status;
    assert.equal(st.signal, "SIGKILL");
  } finally {
    for (const c of [child, other]) {
      try {
        c.kill("SIGKILL");
      } catch { /* ended */ }
      await c.status;
    }
  }
});
