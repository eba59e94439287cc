/**
 * `git paw start --cli claude --branches a,b` with the real Claude Code
 * against the mock Anthropic API (rig: tests/_helpers/ai_cli_session.ts).
 * No key pressed: each agent's model gets the Session Assignment (CLAUDE.md
 * importing AGENTS.md) and the boot block once, publishes `working` under
 * its own id and reads its inbox (pre-allowed in the worktree's local
 * settings); the linked worktrees ask no trust question. `touch` (not
 * pre-allowed) is `needs_input` on the broker within 2 s of the prompt;
 * approved, and the commit approved too, it arrives as a committed artifact
 * under `a`. After a tmux crash `git paw start` resumes both (`--continue`)
 * with a "restarted" prompt. Facts: docs/clis/claude.md.
 */
import assert from "node:assert/strict";
import {
  openCliRig,
  runUnattendedScenario,
  unattendedScript,
} from "../_helpers/ai_cli_session.ts";

Deno.test({
  name:
    "git paw start --cli claude, 2 agents: unattended boot + inbox, needs_input on a prompt, approved commit is an artifact, a crash resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using rig = await openCliRig("claude", unattendedScript("claude"));
    const report = await runUnattendedScenario(rig, {
      async afterBoot(rig) {
        const b = await rig.screen("b");
        assert.doesNotMatch(b, /Do you want to proceed\?/);
        assert.doesNotMatch(b, /Accessing workspace/);
        const results = rig.mock.requests().filter((q) =>
          q.step === "inbox-a" || q.step === "inbox-b"
        );
        assert.equal(results.length, 2);
        for (const q of results) assert.doesNotMatch(q.turn, /Exit code [1-9]/);
        const st = JSON.parse((await rig.w.paw(["status", "--json"])).stdout);
        const wtB = st.worktrees.find((t: { branch: string }) =>
          t.branch === "b"
        ).worktree_path;
        // The per-CLI files are invisible to git.
        assert.equal(
          (await rig.w.git(["status", "--porcelain"], wtB)).stdout,
          "",
        );
      },
    });
    console.log(JSON.stringify(report));
  },
});
