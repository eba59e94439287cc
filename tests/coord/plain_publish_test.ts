/**
 * `publish status …` parsed without commander (lib/coord/cli.ts,
 * `plainPublishStatus`, main.ts's fast path) gives what commander gives,
 * and leaves to commander what it does not parse the same way.
 */
import assert from "node:assert/strict";
import { Command } from "commander";
import {
  plainPublishStatus,
  registerCoordCommands,
} from "../../lib/coord/cli.ts";

/** What commander hands the `publish status` action for `args`. */
async function commanderParse(args: string[]) {
  const program = new Command("git-paw").exitOverride();
  registerCoordCommands(program);
  const status = program.commands.find((c) => c.name() === "publish")!
    .commands.find((c) => c.name() === "status")!;
  let got: { status: string; options: Record<string, unknown> } | null = null;
  status.action((s: string, o: Record<string, unknown>) => {
    got = { status: s, options: { ...o } };
  });
  status.exitOverride().configureOutput({
    writeErr: () => {},
    writeOut: () => {},
  });
  try {
    await program.parseAsync(["publish", "status", ...args], { from: "user" });
  } catch {
    return null;
  }
  return got;
}

Deno.test("plain publish status argv parses as commander parses it", async () => {
  const cases: string[][] = [
    ["working"],
    ["working", "--message", "a-up"],
    ["working", "--message=a up", "--json"],
    ["done", "--files", "a.ts", "--files", "b.ts,c.ts", "--phase", "p"],
    ["working", "--cli", "codex", "--agent", "feat-a", "--broker", "http://x"],
    ["--message", "m", "working"],
    ["working", "--token", "t", "--message", ""],
    ["working", "--message=--odd"],
  ];
  for (const args of cases) {
    const plain = plainPublishStatus(args);
    assert.ok(plain, `parsed plainly: ${args.join(" ")}`);
    assert.deepEqual(plain, await commanderParse(args), args.join(" "));
  }
});

Deno.test("plain publish status leaves the rest to commander", () => {
  const cases: string[][] = [
    [],
    ["working", "extra"],
    ["working", "--help"],
    ["-h"],
    ["working", "--message"],
    ["working", "--message", "-x"],
    ["working", "--message", "a", "--message", "b"],
    ["working", "--json", "--json"],
    ["working", "--unknown", "x"],
    ["working", "--", "x"],
    ["working", "-V"],
  ];
  for (const args of cases) {
    assert.equal(plainPublishStatus(args), null, args.join(" "));
  }
});
