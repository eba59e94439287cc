/**
 * `git paw start --cli gemini --branches a,b` with the real Gemini CLI 0.61
 * against the mock model, in a repo the user trusts in Gemini (rig:
 * tests/_helpers/ai_cli_session.ts). No key pressed: the fresh worktrees ask
 * no trust question (git-paw trusts them), so the CLI does not restart and
 * sends the boot block once; GEMINI.md brings in the Session Assignment;
 * `git paw publish` and `git paw inbox` run unasked (git-paw's policy
 * file), each under its own id. `touch` is `needs_input` on the broker
 * within 2 s of the prompt; approved, and the commit approved too, it is a
 * committed artifact under `a` although Gemini's shell hides the global git
 * config and turns hooks off, and the commit carries the user's identity.
 * After a crash `git paw start` resumes both (`--resume latest`); purge takes
 * the trust entries out again. Facts: docs/clis/gemini.md.
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
    "git paw start --cli gemini, 2 agents: no trust dialog, unattended boot + inbox, needs_input on a prompt, approved commit is an artifact, a crash resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using rig = await openCliRig("gemini", unattendedScript("gemini"));
    const trustPath = join(rig.w.env.HOME!, ".gemini", "trustedFolders.json");
    const trustBefore = await Deno.readTextFile(trustPath);
    const report = await runUnattendedScenario(rig, {
      async afterBoot(rig) {
        const b = await rig.screen("b");
        assert.doesNotMatch(b, /Do you trust/);
        assert.doesNotMatch(b, /Allow execution/);
        // git-paw's policy file loads whole (gemini drops an unsafe regex).
        assert.doesNotMatch(b, /Policy file error/);
        // No `@<path>` in the prompt: gemini would ask to read that file.
        assert.doesNotMatch(b, /outside your workspace/);
        const st = JSON.parse((await rig.w.paw(["status", "--json"])).stdout);
        const wts = st.worktrees as Array<
          { branch: string; worktree_path: string }
        >;
        const wtB = wts.find((t) => t.branch === "b")!.worktree_path;
        assert.equal(
          (await rig.w.git(["status", "--porcelain"], wtB)).stdout,
          "",
        );
        const trust = JSON.parse(await Deno.readTextFile(trustPath));
        for (const t of wts) {
          assert.equal(trust[t.worktree_path], "TRUST_FOLDER");
        }
      },
      async afterResume(rig) {
        const who = await rig.w.git(["log", "-1", "--format=%an <%ae>", "a"]);
        assert.equal(who.stdout.trim(), "Paw User <user@paw.test>");
      },
      async afterPurge() {
        assert.equal(
          await Deno.readTextFile(trustPath),
          trustBefore,
          "purge removes the trust entries git-paw added",
        );
      },
    });
    console.log(JSON.stringify(report));
  },
});
