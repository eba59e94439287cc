/**
 * `git paw start --cli codex --branches a,b` with the real Codex CLI 0.169
 * against the mock model, in a repo the user trusts in Codex (rig:
 * tests/_helpers/ai_cli_session.ts). No key pressed: AGENTS.md (with the
 * helper by absolute command) and the boot block reach each model once;
 * `git paw publish` and `git paw inbox` run unasked in Codex's sandbox
 * (git-paw's prefix rules, no login shell, network on), each under its own
 * id; no shared daemon is started. A command the model asks to run outside
 * the sandbox is `needs_input` on the broker within 2 s (Codex has no
 * worktree hooks: pane 0's screen detector); approved with `y`, the commit
 * (the worktree's git dir is writable) is a committed artifact under `a`.
 * After a tmux crash `git paw start` resumes both (`resume --last`).
 * Facts: docs/clis/codex.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  openCliRig,
  runUnattendedScenario,
  unattendedScript,
} from "../_helpers/ai_cli_session.ts";

Deno.test({
  name:
    "git paw start --cli codex, 2 agents: unattended boot + inbox in the sandbox, needs_input on an escalation, approved commit is an artifact, a crash resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using rig = await openCliRig("codex", unattendedScript("codex"));
    const report = await runUnattendedScenario(rig, {
      async afterBoot(rig) {
        const first = rig.mock.requests().find((q) => q.step === "boot-a")!;
        // Codex's login shell would lose PATH: the helper is absolute.
        assert.ok(
          JSON.stringify(first.body).includes(`${Deno.execPath()} run -A`),
        );
        const b = await rig.screen("b");
        assert.doesNotMatch(b, /Trust this folder/);
        assert.doesNotMatch(b, /Would you like to run/);
        const st = JSON.parse((await rig.w.paw(["status", "--json"])).stdout);
        const wtB = st.worktrees.find((t: { branch: string }) =>
          t.branch === "b"
        ).worktree_path;
        assert.equal(
          (await rig.w.git(["status", "--porcelain"], wtB)).stdout,
          "",
        );
        await assert.rejects(
          Deno.stat(
            join(
              rig.w.env.CODEX_HOME!,
              "app-server-daemon",
              "daemon.pid",
            ),
          ),
          Deno.errors.NotFound,
        );
      },
    });
    console.log(JSON.stringify(report));
  },
});
