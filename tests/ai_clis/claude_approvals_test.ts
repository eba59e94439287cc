/**
 * The approval queue end to end with the real Claude Code 2.1 in a git-paw
 * session against the mock Anthropic API, `[approvals] mode = "queue"`:
 * the PreToolUse hook `start` writes (`__cli-event … --approvals queue`)
 * asks the session broker. A command outside the policy waits in the queue, is
 * listed by `git paw approvals --pending --json`, runs after
 * `git paw approve`; `git paw deny --reason` keeps one from running and the
 * model receives the reason; a policy-allowed command needs nobody; the
 * audit shows every decision. Facts: docs/clis/claude.md ("Hooks").
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBinDir } from "../_helpers/ai_clis.ts";
import { seedClaudeHome } from "../_helpers/ai_cli_claude.ts";
import { startMockModel } from "../fixtures/mock_model/server.ts";
import { claudeProvider } from "../fixtures/mock_model/claude.ts";
import {
  capture,
  makeWorld,
  panes,
  statusJson,
  waitFor,
} from "../session/e2e_helpers.ts";

type Row = {
  id: number;
  agent: string;
  mode: string;
  what: string;
  decision: { decision: string; by: string; reason: string | null } | null;
};

Deno.test("claude in queue mode: approve runs a command, deny --reason stops one and tells the model, the policy needs nobody", async () => {
  await using w = await makeWorld();
  const mock = startMockModel({
    steps: [{
      id: "ask-approve",
      when: "BOOT INSTRUCTIONS",
      reply: {
        text: "First.",
        tools: [{
          name: "Bash",
          input: {
            command: "touch approved.txt && echo RAN-OK-1",
            description: "one",
          },
        }],
      },
    }, {
      id: "ask-deny",
      when: "RAN-OK-1",
      reply: {
        text: "Second.",
        tools: [{
          name: "Bash",
          input: {
            command: "touch denied.txt && echo RAN-BAD-2",
            description: "two",
          },
        }],
      },
    }, {
      id: "policy",
      when: "DENY-REASON-42",
      reply: {
        text: "Third.",
        tools: [{
          name: "Bash",
          input: {
            command: "git add approved.txt && echo RAN-ADD-3",
            description: "three",
          },
        }],
      },
    }, {
      id: "done",
      when: "RAN-ADD-3",
      reply: { text: "ALL-DONE-9z" },
    }],
    fallback: { text: "ok" },
  }, { providers: [claudeProvider] });
  await using _m = { [Symbol.asyncDispose]: () => mock.close() };
  const env = await seedClaudeHome({
    home: join(w.root, "home"),
    baseUrl: mock.url,
    trusted: [w.repo],
    tmpDir: join(w.root, "ct"),
    // No hooks here: `start` writes them into the worktree's
    // .claude/settings.local.json, the PreToolUse one with
    // `--approvals queue` and a long timeout.
    userSettings: { permissions: { defaultMode: "default" } },
  });
  Object.assign(w.env, env, {
    PATH: `${await aiCliBinDir()}:${w.env.PATH ?? "/usr/bin:/bin"}`,
  });
  await w.writeConfig(
    '[approvals]\nmode = "queue"\nallow = ["git add *", "echo *"]\ntimeout_seconds = 120\n',
  );
  const r = await w.paw(["start", "--cli", "claude", "--branches", "feat-a"]);
  assert.equal(r.code, 0, r.stderr);
  const st = await statusJson(w);
  const session = st.session!;
  const pane = await waitFor(
    "the agent pane",
    async () => (await panes(w, session)).find((p) => p.agent === "feat-a")?.id,
  );
  const wt = (await w.git(["worktree", "list", "--porcelain"])).stdout
    .split("\n").filter((l) => l.startsWith("worktree ")).map((l) => l.slice(9))
    .find((p) => p !== w.repo)!;
  const pending = async (): Promise<Row[]> => {
    const out = await w.paw(["approvals", "--pending", "--json"]);
    assert.equal(out.code, 0, out.stderr);
    return (JSON.parse(out.stdout).approvals as Row[]).filter((x) =>
      x.mode === "queue"
    );
  };

  // 1. Outside the policy: it waits in the queue, nothing runs.
  const first = await waitFor(
    "the first request in the queue",
    async () => (await pending())[0],
    90_000,
  );
  assert.equal(first.agent, "feat-a");
  assert.equal(first.what, "touch approved.txt && echo RAN-OK-1");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(
    await Deno.stat(join(wt, "approved.txt")).then(() => true, () => false),
    false,
  );
  const ok = await w.paw(["approve", String(first.id)]);
  assert.equal(ok.code, 0, ok.stderr);
  await waitFor(
    "approved.txt",
    () => Deno.stat(join(wt, "approved.txt")).then(() => true, () => false),
    30_000,
  );

  // 2. Denied with a reason: it does not run, the model reads why.
  const second = await waitFor(
    "the second request",
    async () =>
      (await pending()).find((x) => x.what.startsWith("touch denied.txt")),
    60_000,
  );
  const no = await w.paw([
    "deny",
    String(second.id),
    "--reason",
    "DENY-REASON-42: not in this branch",
  ]);
  assert.equal(no.code, 0, no.stderr);

  // 3. The policy allows `git add *` && `echo *`: nobody is asked.
  await waitFor(
    "the end of the turn",
    async () => (await capture(w, pane)).includes("ALL-DONE-9z"),
    60_000,
  );
  assert.equal(
    await Deno.stat(join(wt, "denied.txt")).then(() => true, () => false),
    false,
  );
  const policyTurn = mock.requests().find((q) => q.step === "policy");
  assert.ok(policyTurn, "the model never saw the denial");
  assert.match(policyTurn.turn, /DENY-REASON-42: not in this branch/);
  const staged = await w.git(["diff", "--cached", "--name-only"], wt);
  assert.match(staged.stdout, /approved\.txt/);

  // The audit: both decisions by the user, the third by the policy.
  const audit = await w.paw(["approvals", "--json"]);
  const rows = (JSON.parse(audit.stdout).approvals as Row[]).filter((x) =>
    x.mode === "queue"
  );
  assert.deepEqual(
    rows.map((x) => [x.what, x.decision?.decision, x.decision?.by]),
    [
      ["touch approved.txt && echo RAN-OK-1", "allow", "user via cli"],
      ["touch denied.txt && echo RAN-BAD-2", "deny", "user via cli"],
      [
        "git add approved.txt && echo RAN-ADD-3",
        "allow",
        "policy: allow git add *, echo *",
      ],
    ],
  );
  assert.equal(rows[1]!.decision!.reason, "DENY-REASON-42: not in this branch");
  const text = await w.paw(["approvals"]);
  assert.match(text.stdout, /denied by user via cli at .* — DENY-REASON-42/);
  assert.equal((await w.paw(["stop"])).code, 0);
  // A stopped session's audit comes from its log.
  const later = await w.paw(["approvals", "--json"]);
  assert.equal(later.code, 0, later.stderr);
  assert.match(later.stderr, /the broker is not running/);
  assert.deepEqual(
    (JSON.parse(later.stdout).approvals as Row[]).filter((x) =>
      x.mode === "queue"
    )
      .map((x) => x.decision?.by),
    ["user via cli", "user via cli", "policy: allow git add *, echo *"],
  );
});
