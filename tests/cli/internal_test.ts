import assert from "node:assert/strict";
import { parseInternalArgs } from "../../lib/cli/internal.ts";
import { UsageError } from "../../lib/core/errors.ts";

Deno.test("parseInternalArgs() reads the pane commands' own argv strictly", () => {
  assert.deepEqual(
    parseInternalArgs("__dashboard", [
      "--session",
      "paw-x",
      "--repo=/r",
      "--port",
      "9119",
      "--ready-file",
      "/d/ready.json",
    ]),
    {
      options: {
        session: "paw-x",
        repo: "/r",
        port: "9119",
        "ready-file": "/d/ready.json",
      },
      rest: [],
      help: false,
    },
  );
  // Everything after `--` is the CLI's, flags included.
  assert.deepEqual(
    parseInternalArgs("__agent-pane", [
      "--cli",
      "c",
      "--cwd",
      "/w",
      "--",
      "claude",
      "--model",
      "x y",
      "--",
    ]).rest,
    ["claude", "--model", "x y", "--"],
  );
  assert.equal(parseInternalArgs("__dashboard", ["--help"]).help, true);
  for (
    const bad of [
      ["--session", "s"], // --repo missing
      ["--session", "s", "--repo", "/r", "--port"], // no value
      ["--session", "s", "--session", "t", "--repo", "/r"], // twice
      ["--session", "s", "--repo", "/r", "--cli", "x"], // not this command's
      ["--session", "s", "--repo", "/r", "stray"],
      ["--session", "s", "--repo", "/r", "--", "x"], // takes no argv
    ]
  ) {
    assert.throws(() => parseInternalArgs("__dashboard", bad), UsageError);
  }
  assert.throws(() => parseInternalArgs("__nope", []), UsageError);
});

Deno.test("parseInternalArgs() takes __cli-event's one JSON argument (Codex notify)", () => {
  assert.deepEqual(
    parseInternalArgs("__cli-event", [
      "--cli",
      "codex",
      "--event",
      "notify",
      '{"type":"agent-turn-complete"}',
    ]),
    {
      options: { cli: "codex", event: "notify" },
      rest: ['{"type":"agent-turn-complete"}'],
      help: false,
    },
  );
  assert.throws(
    () =>
      parseInternalArgs("__cli-event", [
        "--cli",
        "c",
        "--event",
        "e",
        "a",
        "b",
      ]),
    UsageError,
  );
  assert.throws(() => parseInternalArgs("__agent-pane", ["x"]), UsageError);
});
