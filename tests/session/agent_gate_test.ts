/**
 * `start` opens the agent panes while it still writes the agents' files;
 * each pane's guard holds the CLI until the receipt lists its worktree.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { waitForLaunchGate } from "../../lib/session/agent_pane.ts";
import { pawCommand } from "../_helpers/paw_command.ts";

Deno.test("an agent pane starts its CLI only once the launch gate lists its worktree", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    const wt = join(dir, "wt");
    await Deno.mkdir(wt);
    const gate = join(dir, "receipt.json");
    await Deno.writeTextFile(gate, JSON.stringify({ worktrees: [] }));
    const child = pawCommand(
      [
        "__agent-pane",
        "--cli",
        "toucher",
        "--cwd",
        wt,
        "--",
        "sh",
        "-c",
        `env > ${join(wt, "started")}`,
      ],
      {
        env: { GIT_PAW_LAUNCH_GATE: gate },
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      },
    ).spawn();
    await new Promise((r) => setTimeout(r, 700));
    assert.throws(
      () => Deno.statSync(join(wt, "started")),
      Deno.errors.NotFound,
      "the CLI ran before the receipt listed its worktree",
    );
    await Deno.writeTextFile(
      gate,
      JSON.stringify({ worktrees: [{ worktree_path: wt }] }),
    );
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    // The CLI runs without the guard's own variables.
    const env = await Deno.readTextFile(join(wt, "started"));
    assert.ok(!env.includes("GIT_PAW_LAUNCH_GATE"), env);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("waitForLaunchGate(): none without the variable, gave-up after its timeout, open once listed", async () => {
  const dir = await Deno.makeTempDir();
  const before = Deno.env.get("GIT_PAW_LAUNCH_GATE");
  try {
    Deno.env.delete("GIT_PAW_LAUNCH_GATE");
    assert.equal(await waitForLaunchGate("/x", 50), "none");
    const gate = join(dir, "receipt.json");
    Deno.env.set("GIT_PAW_LAUNCH_GATE", gate);
    // Missing, then garbled, then listing someone else: keeps waiting.
    assert.equal(await waitForLaunchGate("/x", 50), "gave-up");
    await Deno.writeTextFile(gate, "{");
    assert.equal(await waitForLaunchGate("/x", 50), "gave-up");
    await Deno.writeTextFile(
      gate,
      JSON.stringify({ worktrees: [{ worktree_path: "/y" }] }),
    );
    assert.equal(await waitForLaunchGate("/x", 50), "gave-up");
    await Deno.writeTextFile(
      gate,
      JSON.stringify({ worktrees: [{ worktree_path: "/x" }] }),
    );
    assert.equal(await waitForLaunchGate("/x", 50), "open");
  } finally {
    if (before === undefined) Deno.env.delete("GIT_PAW_LAUNCH_GATE");
    else Deno.env.set("GIT_PAW_LAUNCH_GATE", before);
    await Deno.remove(dir, { recursive: true });
  }
});
