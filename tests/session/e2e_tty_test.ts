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

/**
 * `git paw <args>` on a pty (`env` over the world's); returns a handle to
 * type and read.
 */
function onPty(w: World, args: string[], env: Record<string, string> = {}) {
  const cmd = shellLine(pawArgv(args));
  const child = new Deno.Command("script", {
    args: ["-qefc", cmd, "/dev/null"],
    cwd: w.repo,
    env: {
      ...w.env,
      TERM: "xterm-256color",
      COLUMNS: "120",
      LINES: "40",
      ...env,
    },
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
  // "Done" with nothing picked does not cancel: it says what to do.
  await pty.type("\r");
  await waitFor(
    "pick-a-branch hint",
    () => pty.screen().includes("pick a branch first"),
  );
  await pty.type("feat/new");
  await waitFor(
    "new-branch entry",
    () => pty.screen().includes("new branch 'feat/new'"),
  );
  await pty.type("\x1b[B"); // down: from "Done" to the new branch
  await pty.type("\r");
  await waitFor("one selected", () => pty.screen().includes("1 selected"));
  // The filter stays and the cursor on the branch just picked: up to Done.
  await waitFor(
    "picked branch kept under the filter",
    () => pty.screen().includes("[x] feat/new (new)"),
  );
  await pty.type("\x1b[A");
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
  // Focus reports reach the CLIs that ask for them.
  assert.equal(
    (await w.tmux(["show-options", "-s", "focus-events"])).stdout.trim(),
    "focus-events on",
  );
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

Deno.test("git paw start whose attach fails leaves the built session running and says how to attach", async () => {
  await using w = await makeWorld({ project: "proj" });
  // $TMUX names another server, of which this terminal is no client:
  // `switch-client` fails ("no current client") after the session is built
  // there.
  const other = ["-L", "other"];
  const made = await w.tmux([...other, "new-session", "-d", "-s", "outer"]);
  assert.equal(made.code, 0, made.stderr);
  try {
    const sock = (await w.tmux([
      ...other,
      "display-message",
      "-p",
      "#{socket_path}",
    ])).stdout.trim();
    await using pty = onPty(w, [
      "start",
      "--cli",
      "demo",
      "--branches",
      "feat/a",
    ], { TMUX: `${sock},1,0` });
    const code = await pty.finish();
    const lines = pty.screen().split(/\r?\n/).filter((l) => l.trim());
    assert.equal(code, 1, pty.screen());
    const errors = lines.filter((l) => /no current client|error/.test(l));
    assert.equal(errors.length, 1, pty.screen());
    assert.match(
      errors[0]!,
      /^error: Tmux error: cannot attach to session 'paw-proj' \(no current client\); it keeps running\. Attach with: {2}tmux attach -t paw-proj\s*$/,
    );
    // Nothing was rolled back: session, panes, worktree and receipt stay.
    const alive = await w.tmux([...other, "has-session", "-t", "=paw-proj"]);
    assert.equal(alive.code, 0, "session still running");
    const titles = await w.tmux([
      ...other,
      "list-panes",
      "-t",
      "=paw-proj:",
      "-F",
      "#{pane_title}",
    ]);
    assert.deepEqual(titles.stdout.trim().split("\n"), ["dashboard", "feat/a"]);
    assert.ok(exists(join(w.root, "proj-feat-a")));
    assert.ok(
      exists(join(w.root, "data", "git-paw", "sessions", "paw-proj.json")),
    );
  } finally {
    await w.tmux([...other, "kill-server"]);
  }
});
