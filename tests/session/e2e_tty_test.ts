/**
 * With a terminal on stdin (a pty from `script`): the pickers choose branches
 * (type-to-filter, new branch) and the CLI, then start attaches; detaching
 * ends the command with exit 0.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  exists,
  makeWorld,
  panes,
  waitFor,
  type World,
} from "./e2e_helpers.ts";
import { pawArgv, shellLine } from "../_helpers/paw_command.ts";

/** `git paw <args>` on a pty; returns a handle to type and read. */
function onPty(w: World, args: string[]) {
  const cmd = shellLine(pawArgv(args));
  const child = new Deno.Command("script", {
    args: ["-qefc", cmd, "/dev/null"],
    cwd: w.repo,
    env: { ...w.env, TERM: "xterm-256color", COLUMNS: "120", LINES: "40" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let screen = "";
  const dec = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) screen += dec.decode(chunk);
  })();
  const errs = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  return {
    screen: () => screen,
    type: (s: string) => writer.write(new TextEncoder().encode(s)),
    async finish() {
      await writer.close().catch(() => {});
      const st = await child.status;
      await reading;
      await errs;
      return st.code;
    },
    /** The client `start` attached shows up in tmux. */
    attached: () =>
      waitFor(
        "client attached",
        async () => (await clients(w)) === 1,
        60_000,
      ),
    /** Detach that client; `start` then exits: its exit code. */
    async detach() {
      await w.tmux(["detach-client", "-s", "=paw-proj"]);
      return await this.finish();
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await this.finish().catch(() => {});
    },
  };
}

async function clients(w: World): Promise<number> {
  const r = await w.tmux(["list-clients", "-t", "=paw-proj"]);
  return r.code === 0 ? r.stdout.split("\n").filter((l) => l).length : 0;
}

Deno.test("git paw start on a terminal picks branches and CLI interactively, then attaches", async () => {
  await using w = await makeWorld({ project: "proj" });
  await using pty = onPty(w, ["start", "--no-broker"]);
  await waitFor("branch picker", () => pty.screen().includes("Branches"));
  await pty.type("feat/new");
  await waitFor(
    "new-branch entry",
    () => pty.screen().includes("new branch 'feat/new'"),
  );
  await pty.type("\x1b[B"); // down: from "Done" to the new branch
  await pty.type("\r");
  await waitFor("one selected", () => pty.screen().includes("1 selected"));
  await pty.type("\r"); // Done
  await waitFor("CLI picker", () => pty.screen().includes("CLI"));
  await waitFor("demo listed", () => pty.screen().includes("demo"));
  // demo is listed last: up from the first entry wraps to it.
  await pty.type("\x1b[A");
  await pty.type("\r");
  await pty.attached();
  assert.deepEqual((await panes(w, "paw-proj")).map((p) => p.title), [
    "feat/new",
  ]);
  assert.ok(exists(join(w.root, "proj-feat-new")));
  assert.equal(await pty.detach(), 0);
});

Deno.test("git paw start on a terminal lets each branch pick its own CLI", async () => {
  await using w = await makeWorld({ project: "proj" });
  // Custom CLIs sort before the built-in demo, which is always last.
  await w.writeConfig(`[clis.idle]\ncommand = "sleep 600"\n`);
  await using pty = onPty(w, [
    "start",
    "--no-broker",
    "--branches",
    "feat/a,feat/b",
  ]);
  await waitFor("mode picker", () => pty.screen().includes("Mode"));
  await pty.type("\x1b[B"); // "Different CLI per branch"
  await pty.type("\r");
  await waitFor(
    "CLI for feat/a",
    () => pty.screen().includes("CLI for feat/a"),
  );
  await pty.type("\x1b[A"); // wrap to the last entry: demo
  await pty.type("\r");
  await waitFor(
    "CLI for feat/b",
    () => pty.screen().includes("CLI for feat/b"),
  );
  await pty.type("\r"); // the first entry: idle
  await pty.attached();
  const receipt = JSON.parse(
    await Deno.readTextFile(
      join(w.root, "data", "git-paw", "sessions", "paw-proj.json"),
    ),
  ) as { worktrees: Array<{ branch: string; cli: string }> };
  assert.deepEqual(
    receipt.worktrees.map((x) => [x.branch, x.cli]),
    [["feat/a", "demo"], ["feat/b", "idle"]],
  );
  assert.equal(await pty.detach(), 0);
});

Deno.test("git paw start run inside tmux switches the terminal's client to the new session", async () => {
  await using w = await makeWorld({ project: "proj" });
  const made = await w.tmux([
    "new-session",
    "-d",
    "-s",
    "outer",
    "-x",
    "120",
    "-y",
    "40",
    "-c",
    w.repo,
    "/bin/sh",
  ]);
  assert.equal(made.code, 0, made.stderr);
  // A real client (on a pty) looking at the outer session.
  const client = new Deno.Command("script", {
    args: ["-qefc", "tmux attach -t =outer", "/dev/null"],
    cwd: w.repo,
    env: { ...w.env, TERM: "xterm-256color" },
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const sessionOfClient = async () => {
      const r = await w.tmux(["list-clients", "-F", "#{client_session}"]);
      return r.stdout.trim();
    };
    await waitFor(
      "client on outer",
      async () => await sessionOfClient() === "outer",
    );
    const line = shellLine(pawArgv([
      "start",
      "--no-broker",
      "--cli",
      "demo",
      "--branches",
      "feat/in",
    ]));
    await w.tmux([
      "send-keys",
      "-t",
      "=outer:",
      "-l",
      `${line}; echo "exit=$?"`,
    ]);
    await w.tmux(["send-keys", "-t", "=outer:", "Enter"]);
    await waitFor(
      "client switched to paw-proj",
      async () => await sessionOfClient() === "paw-proj",
      60_000,
    );
    // The command itself returned at once, successfully, in the outer pane.
    await waitFor("start finished", async () => {
      const r = await w.tmux(["capture-pane", "-p", "-t", "=outer:"]);
      return r.stdout.includes("exit=0");
    });
    assert.deepEqual((await panes(w, "paw-proj")).map((p) => p.title), [
      "feat/in",
    ]);
  } finally {
    try {
      client.kill("SIGKILL");
    } catch { /* gone */ }
    await client.status;
  }
});
