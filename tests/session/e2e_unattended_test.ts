/**
 * `git paw start --unattended` end to end with the demo agent (scripted by
 * `GIT_PAW_DEMO_SCRIPT`): nobody at the panes. One agent asks a question
 * (it reaches the notify command; nobody answers, so the stall nudge does),
 * then wants `git push` (denied by the policy: the denial reaches the
 * notify command once); another goes silent (nudged once, by typing into
 * its idle pane). The run ends when both say done, exit 0, with the
 * summary on stdout and in the state dir. A run whose agents never finish
 * ends when its budget is spent, exit 3, `--json`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeWorld, statusJson } from "./e2e_helpers.ts";

async function notifyScript(dir: string): Promise<[string, string]> {
  const file = join(dir, "notified.txt");
  const script = join(dir, "notify.sh");
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nout="$1"; shift\nprintf '%s|' "$@" >> "$out"\necho >> "$out"\n`,
  );
  await Deno.chmod(script, 0o755);
  return [script, file];
}

Deno.test("start --unattended: questions and denials notified once, a stalled agent nudged once, a summary when every agent is done", async () => {
  await using w = await makeWorld();
  const [script, file] = await notifyScript(w.root);
  await w.writeConfig(
    [
      "[approvals]",
      'deny = ["git push *"]',
      "[notify]",
      `command = ["${script}", "${file}"]`,
      "bell = false",
      "stall_threshold_seconds = 3",
      "",
    ].join("\n"),
  );
  w.env.GIT_PAW_DEMO_SCRIPT = JSON.stringify({
    "feat-a": ["ask:which port?", "run:git push origin feat-a", "done"],
    "feat-b": ["stall", "done"],
  });
  const r = await w.paw([
    "start",
    "--unattended",
    "--max-minutes",
    "5",
    "--cli",
    "demo",
    "--branches",
    "feat-a,feat-b",
  ]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  // Progress on stderr, the summary on stdout.
  assert.match(r.stderr, /unattended: 2 agent\(s\), budget 5 min/);
  assert.match(r.stderr, /feat-a asks: which port\?/);
  assert.match(
    r.stderr,
    /feat-b silent for \d+ s: nudged \(typed into its pane\)/,
  );
  assert.match(
    r.stderr,
    /feat-a silent for \d+ s: nudged \(queued as agent\.feedback/,
  );
  assert.match(
    r.stdout,
    /^Unattended run of 'paw-proj' ended after .*: every agent is done or verified\.$/m,
  );
  assert.match(r.stdout, /^ {2}feat-a \(demo\): done — [2-9] commits, /m);
  assert.match(
    r.stdout,
    /^ {2}feat-b \(demo\): done — [2-9] commits, .*nudged 1×$/m,
  );
  assert.match(
    r.stdout,
    /^Denied:\n {2}#\d+ feat-a Bash: git push origin feat-a — by policy: deny git push \*/m,
  );
  assert.match(r.stdout, /^Left:\n {2}nothing$/m);
  assert.match(r.stdout, /The session is still running/);
  // Nothing ran the push: the demo records what it was allowed to run.
  const st = await statusJson(w);
  const wtA = st.worktrees!.find((x) => x.branch === "feat-a")!.worktree_path;
  const logA = (await w.git(["log", "--format=%s"], wtA)).stdout;
  assert.doesNotMatch(logA, /ran: git push/);
  // The notify command: each cause once, with the command or the link.
  const lines = (await Deno.readTextFile(file)).trim().split("\n");
  // A stall's text is the same each time (a slow boot under load can be a
  // first, separate stall); every other cause is sent once.
  const causes = lines.filter((l) => l.split("|")[1] !== "stalled");
  assert.equal(new Set(causes).size, causes.length, lines.join("\n"));
  const of = (reason: string) =>
    lines.filter((l) => l.split("|")[1] === reason);
  assert.equal(of("question").length, 1, lines.join("\n"));
  assert.match(
    of("question")[0]!,
    /^feat-a\|question\|which port\? · web: http:\/\/127\.0\.0\.1:\d+\/#agent-feat-a\|$/,
  );
  assert.equal(of("denied").length, 1, lines.join("\n"));
  assert.match(
    of("denied")[0]!,
    /^feat-a\|denied\|Bash: git push origin feat-a — denied by policy: deny git push \*.* · web: http:\/\/127\.0\.0\.1:\d+\/#approval-\d+\|$/,
  );
  assert.ok(of("stalled").length <= 2, lines.join("\n"));
  // The summary is kept in the session's state dir.
  const kept = JSON.parse(
    await Deno.readTextFile(
      join(
        w.root,
        "data",
        "git-paw",
        "sessions",
        "paw-proj",
        "unattended-summary.json",
      ),
    ),
  );
  assert.equal(kept.outcome, "done");
  assert.equal(kept.exit_code, 0);
  assert.deepEqual(
    kept.agents.map((a: { id: string; status: string }) => [a.id, a.status]),
    [
      ["feat-a", "done"],
      ["feat-b", "done"],
    ],
  );
  assert.equal(kept.denied.length, 1);
  assert.equal(st.tmux_running, true, "left running for inspection");
  assert.equal((await w.paw(["stop"])).code, 0);
});

Deno.test("start --unattended ends when the budget is spent: exit 3, --json summary, --stop-when-done leaves it running", async () => {
  await using w = await makeWorld();
  await w.writeConfig("[notify]\nbell = false\nstall_threshold_seconds = 60\n");
  // Never says done.
  const r = await w.paw([
    "start",
    "--unattended",
    "--max-minutes",
    "0.1",
    "--stop-when-done",
    "--json",
    "--cli",
    "demo",
    "--branches",
    "feat-a",
  ]);
  assert.equal(r.code, 3, r.stderr);
  const sum = JSON.parse(r.stdout);
  assert.equal(sum.outcome, "budget");
  assert.equal(sum.exit_code, 3);
  assert.equal(sum.max_minutes, 0.1);
  assert.equal(sum.agents.length, 1);
  assert.equal(sum.agents[0].id, "feat-a");
  assert.match(sum.left[0], /^feat-a: /);
  assert.equal(sum.session_running, true, "not done: kept running");
  assert.equal((await statusJson(w)).tmux_running, true);
  // Bad usage: one line, exit 2.
  const bad = await w.paw(["start", "--max-minutes", "5"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /go with --unattended/);
  const zero = await w.paw(["start", "--unattended", "--max-minutes", "0"]);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--max-minutes must be a positive number/);
  assert.equal((await w.paw(["stop"])).code, 0);
});

Deno.test("start --unattended --stop-when-done stops the session when every agent is done", async () => {
  await using w = await makeWorld();
  await w.writeConfig("[notify]\nbell = false\n");
  w.env.GIT_PAW_DEMO_SCRIPT = JSON.stringify(["done"]);
  const r = await w.paw([
    "start",
    "--unattended",
    "--stop-when-done",
    "--cli",
    "demo",
    "--branches",
    "feat-a",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /every agent is done or verified/);
  assert.match(r.stdout, /^ {2}feat-a \(demo\): done — 1 commit, /m);
  assert.match(r.stdout, /^The session was stopped\.$/m);
  assert.match(r.stderr, /Session stopped\./, "stop's lines go to stderr");
  const st = await statusJson(w);
  assert.equal(st.status, "stopped");
  assert.equal(st.tmux_running, false);
});
