import assert from "node:assert/strict";
import { Command } from "commander";
import { parseStartArgs } from "../../lib/session/start_args.ts";
import { registerSessionCommands } from "../../lib/session/cli.ts";
import type { StartOptions } from "../../lib/session/start.ts";

/** What commander's `start` hands to startCommand for `args`, or its error. */
async function viaCommander(
  args: string[],
): Promise<{ ok: true; opts: StartOptions } | { ok: false }> {
  let got: StartOptions | undefined;
  const program = new Command("git-paw")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerSessionCommands(program, {
    start: (o) => {
      got = o;
      return Promise.resolve();
    },
  });
  try {
    await program.parseAsync(["start", ...args], { from: "user" });
  } catch {
    return { ok: false };
  }
  assert.ok(got, `commander ran no start for ${JSON.stringify(args)}`);
  return { ok: true, opts: got };
}

/** Keys with a value only (commander's object has explicit undefineds). */
function defined(o: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  );
}

const READ_HERE: string[][] = [
  [],
  ["--no-broker", "--cli", "idle", "--branches", "b0,b1,b2"],
  ["--cli", "idle", "--branches", "b0,b1"],
  ["--cli=claude", "--branches= a , ,b "],
  ["--branches", ""],
  ["--branches="],
  ["--preset", "pair", "--dry-run"],
  ["--no-rebase", "--no-attach", "--cli", "x", "--branches", "feat/a"],
  ["--supervisor", "--cli", "codex", "--branches", "a"],
  ["--no-supervisor", "--branches", "a"],
  ["--unattended", "--max-minutes", "5", "--stop-when-done", "--json"],
  ["--unattended", "--max-minutes=0.5"],
  ["--specs-format", "markdown", "--cli", "x", "--branches", "a"],
];

const LEFT_TO_COMMANDER: string[][] = [
  ["--help"],
  ["-h"],
  ["--cli"],
  ["--cli", "--branches", "a"],
  ["--bogus"],
  ["stray"],
  ["--cli", "a", "--cli", "b"],
  ["--supervisor", "--no-supervisor"],
  ["--no-broker=1"],
  ["--specs"],
  ["--specs", "a,b"],
  ["--from-all-specs"],
  ["--from-specs"],
  ["--max-minutes", "5"],
  ["--json"],
  ["--stop-when-done"],
  ["--unattended", "--max-minutes", "0"],
  ["--unattended", "--max-minutes", "abc"],
  ["--specs-format", "yaml"],
  ["--", "--cli", "x"],
];

Deno.test("parseStartArgs() reads the common forms as commander does", async () => {
  for (const args of READ_HERE) {
    const fast = parseStartArgs(args);
    assert.ok(fast, `not read here: ${JSON.stringify(args)}`);
    const slow = await viaCommander(args);
    assert.ok(slow.ok, `commander refused ${JSON.stringify(args)}`);
    assert.deepEqual(defined(fast), defined(slow.opts), JSON.stringify(args));
  }
});

Deno.test("parseStartArgs() leaves help, spec flags, repeats and errors to commander", async () => {
  for (const args of LEFT_TO_COMMANDER) {
    assert.equal(parseStartArgs(args), null, JSON.stringify(args));
  }
  // The error cases among them are errors to commander too (it words them).
  for (
    const args of [["--bogus"], ["--json"], ["--specs-format", "yaml"], [
      "--unattended",
      "--max-minutes",
      "0",
    ]]
  ) {
    assert.equal((await viaCommander(args)).ok, false, JSON.stringify(args));
  }
});
