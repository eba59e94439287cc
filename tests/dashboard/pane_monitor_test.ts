/**
 * The screen detector at run time: real fixture screens shown in a real,
 * isolated tmux server and captured by the monitor; statuses published on
 * change only; the hooks' pending tool call named; a hook's needs_input
 * left alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  capturePanes,
  newSession,
  setTmuxEnv,
  tmuxEnv,
  tmuxText,
} from "../../lib/adapters/tmux.ts";
import { PaneMonitor } from "../../lib/dashboard/pane_monitor.ts";
import { startFakeBroker } from "./_fake_broker.ts";
import type { StatusMessage } from "../../lib/core/messages.ts";
import { waitFor } from "../_helpers/wait.ts";

function screen(name: string): string {
  return Deno.readTextFileSync(
    new URL(`../../fixtures/screens/${name}.txt`, import.meta.url),
  );
}
function fixturePath(name: string): string {
  return new URL(`../../fixtures/screens/${name}.txt`, import.meta.url)
    .pathname;
}

async function statuses(b: { logSince(n: number): Promise<unknown[]> }) {
  return (await b.logSince(0) as Array<{ message: StatusMessage }>)
    .map((e) => e.message).filter((m) => m.type === "agent.status");
}

Deno.test("PaneMonitor publishes needs_input once per prompt, names the pending call, clears when it is gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pawmon" });
  const broker = await startFakeBroker();
  await using _close = { [Symbol.asyncDispose]: () => broker.close() };
  try {
    // A worktree whose hooks saw the call start (state file in its git dir).
    await Deno.mkdir(join(dir, ".git"));
    await Deno.writeTextFile(
      join(dir, ".git", "paw-cli-state"),
      JSON.stringify({
        version: 1,
        cli: "claude",
        pending: { label: "Bash: touch nope.txt", at: 1 },
        published: { status: "working", message: null },
      }),
    );
    broker.watchTargets = () => [
      { agent_id: "feat-a", worktree_path: dir, cli: "claude" },
    ];
    let shown = screen("claude_idle");
    const mon = new PaneMonitor(broker, {
      session: "s",
      panes: () => Promise.resolve([{ pane: "%1", agent: "feat-a" }]),
      capture: () => Promise.resolve(new Map([["%1", shown]])),
    });
    await mon.tick();
    assert.equal((await statuses(broker)).length, 0, "idle, nothing known");
    shown = screen("claude_permission_write_in_worktree");
    await mon.tick();
    await mon.tick();
    let st = await statuses(broker);
    assert.equal(st.length, 1, "published once");
    assert.equal(st[0]!.payload.status, "needs_input");
    assert.equal(st[0]!.payload.message, "Bash: touch nope.txt");
    assert.equal(st[0]!.payload.cli, "claude");
    assert.deepEqual(st[0]!.payload.modified_files, []);
    assert.equal(broker.agents()[0]?.status, "needs_input");
    shown = screen("claude_idle");
    await mon.tick();
    assert.equal(
      (await statuses(broker)).length,
      1,
      "one capture is not enough",
    );
    await mon.tick();
    st = await statuses(broker);
    assert.equal(st.length, 2);
    assert.equal(st[1]!.payload.status, "idle");
    await mon.tick();
    assert.equal((await statuses(broker)).length, 2, "no flapping");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PaneMonitor leaves a needs_input a hook published alone", async () => {
  const broker = await startFakeBroker();
  await using _close = { [Symbol.asyncDispose]: () => broker.close() };
  await broker.publish({
    type: "agent.status",
    agent_id: "feat-a",
    payload: {
      status: "needs_input",
      modified_files: [],
      message: "Bash: curl -s http://127.0.0.1:18765/v1/models",
      detail: { source: "cli_event" },
    },
  });
  const mon = new PaneMonitor(broker, {
    session: "s",
    panes: () => Promise.resolve([{ pane: "%1", agent: "feat-a" }]),
    capture: () =>
      Promise.resolve(new Map([["%1", screen("claude_permission_bash")]])),
  });
  broker.watchTargets = () => [
    { agent_id: "feat-a", worktree_path: "/nonexistent", cli: "claude" },
  ];
  await mon.tick();
  await mon.tick();
  assert.equal((await statuses(broker)).length, 1);
});

Deno.test("PaneMonitor reads real tmux panes: a prompt before the agent's first publish makes it known", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "pawmt" }));
  setTmuxEnv({ TMUX_TMPDIR: dir, TMUX: "" });
  const broker = await startFakeBroker();
  await using _close = { [Symbol.asyncDispose]: () => broker.close() };
  try {
    const show = (name: string) => [
      "sh",
      "-c",
      'cat "$0"; exec sleep 600',
      fixturePath(name),
    ];
    const prompt = await newSession("s", {
      cwd: dir,
      env: {},
      argv: show("claude_permission_bash"),
    }, { width: 120, height: 45 });
    await tmuxText(["set-option", "-p", "-t", prompt, "@paw_agent", "feat-a"]);
    const idle = (await tmuxText([
      "new-window",
      "-t",
      "s:",
      "-P",
      "-F",
      "#{pane_id}",
      "--",
      ...show("claude_idle"),
    ])).trim();
    await tmuxText(["set-option", "-p", "-t", idle, "@paw_agent", "feat-b"]);
    broker.watchTargets = () => [
      { agent_id: "feat-a", worktree_path: dir, cli: "claude" },
      { agent_id: "feat-b", worktree_path: dir, cli: "claude" },
    ];
    assert.equal(broker.agents().length, 0, "no agent known yet");
    // Both screens in one tmux call; a pane that is gone is skipped.
    const caps = await waitFor("the prompt on screen", async () => {
      const c = await capturePanes([prompt, "%999", idle]);
      return c.get(prompt)?.includes("Do you want to proceed?") ? c : null;
    });
    assert.deepEqual([...caps.keys()].sort(), [prompt, idle].sort());
    const mon = new PaneMonitor(broker, { session: "s" });
    await mon.tick();
    const st = await statuses(broker);
    assert.equal(st.length, 1);
    assert.equal(st[0]!.agent_id, "feat-a");
    assert.equal(
      st[0]!.payload.message,
      "Bash: curl -s http://127.0.0.1:18765/v1/models",
    );
    assert.deepEqual(broker.agents().map((a) => a.agent_id), ["feat-a"]);
  } finally {
    await new Deno.Command("tmux", {
      args: ["kill-server"],
      env: tmuxEnv(),
      stdout: "null",
      stderr: "null",
    }).output();
    setTmuxEnv(undefined);
    await Deno.remove(dir, { recursive: true });
  }
});
