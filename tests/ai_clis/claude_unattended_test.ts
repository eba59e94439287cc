/**
 * `git paw start --unattended` with the real Claude Code 2.1 against the
 * mock Anthropic API: nobody at the pane. Approvals are in the queue (the
 * unattended default): the model's `git push` is refused by the policy and
 * the model reads why, its `git paw publish status done` is git-paw's own
 * and runs unasked; the run ends with exit 0 and a summary naming the
 * denial; the denial reached the notify command once. No auto-mode offer
 * (a dialog) stops the turn, and afterwards `git paw tell` types into its
 * idle prompt.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openCliRig } from "../_helpers/ai_cli_session.ts";
import { capture } from "../session/e2e_helpers.ts";

Deno.test("claude --unattended: the policy decides, the denial is notified once, the run ends with a summary", async () => {
  await using rig = await openCliRig("claude", {
    steps: [{
      id: "push",
      when: "BOOT INSTRUCTIONS",
      reply: {
        text: "Pushing first.",
        tools: [{
          name: "Bash",
          input: { command: "git push origin feat-a", description: "push" },
        }],
      },
    }, {
      id: "done",
      when: "approval policy",
      reply: {
        text: "Not allowed; reporting done.",
        tools: [{
          name: "Bash",
          input: {
            command: "git paw publish status done --message UNATT-DONE-7",
            description: "report",
          },
        }],
      },
    }, {
      id: "end",
      when: "published agent.status",
      reply: { text: "FINISHED-UNATT" },
    }, {
      id: "told",
      when: "TOLD-9",
      reply: { text: "HEARD-TOLD-9" },
    }],
    fallback: { text: "ok" },
  });
  const w = rig.w;
  const file = join(w.root, "notified.txt");
  const script = join(w.root, "notify.sh");
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nout="$1"; shift\nprintf '%s|' "$@" >> "$out"\necho >> "$out"\n`,
  );
  await Deno.chmod(script, 0o755);
  await w.writeConfig(
    [
      "[approvals]",
      'deny = ["git push *"]',
      "timeout_seconds = 120",
      "[notify]",
      `command = ["${script}", "${file}"]`,
      "bell = false",
      "stall_threshold_seconds = 600",
      "",
    ].join("\n"),
  );
  const r = await w.paw([
    "start",
    "--unattended",
    "--max-minutes",
    "4",
    "--cli",
    "claude",
    "--branches",
    "feat-a",
  ]);
  const turns = rig.mock.requests().filter((q) => q.step !== null).map((q) =>
    q.step
  );
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}\nsteps: ${turns}`);
  assert.match(r.stdout, /every agent is done or verified/);
  assert.match(r.stdout, /^ {2}feat-a \(claude\): done/m);
  assert.match(
    r.stdout,
    /^Denied:\n {2}#\d+ feat-a Bash: git push origin feat-a — by policy: deny git push \*/m,
  );
  // The model was told why, and reported done itself.
  const told = rig.mock.requests().find((q) => q.step === "done");
  assert.ok(told, "the model never saw the denial");
  assert.match(told.turn, /approval policy/);
  // Queue mode: recorded in the receipt, every decision on record.
  const audit = await w.paw(["approvals", "--json"]);
  const rows = JSON.parse(audit.stdout) as {
    mode: string;
    approvals: Array<
      { what: string; mode: string; decision: { decision: string; by: string } }
    >;
  };
  assert.equal(rows.mode, "queue");
  const queued = rows.approvals.filter((x) => x.mode === "queue");
  assert.deepEqual(
    queued.map((x) => [x.what, x.decision.decision]).filter(([what]) =>
      String(what).startsWith("git push")
    ),
    [["git push origin feat-a", "deny"]],
  );
  const lines = (await Deno.readTextFile(file)).trim().split("\n");
  const denied = lines.filter((l) => l.split("|")[1] === "denied");
  assert.equal(denied.length, 1, lines.join("\n"));
  assert.match(denied[0]!, /^feat-a\|denied\|Bash: git push origin feat-a/);
  // Left running: `tell` types into Claude's idle prompt, and it answers.
  const listed = JSON.parse((await w.paw(["agents", "--json"])).stdout);
  const pane = listed[0].pane as string;
  const screen = () => capture(w, pane);
  const untilScreen = async (what: string, ok: (s: string) => boolean) => {
    try {
      await rig.until(what, async () => ok(await screen()));
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- screen\n${await screen()}`);
    }
  };
  // After a denial, Claude 2.1 offers auto mode in a dialog when the
  // user's settings name a permission mode and no local settings do: the
  // worktree's settings repeat the user's mode, so no dialog stops the
  // unattended agent (the screen detector still knows it:
  // fixtures/screens/claude_auto_mode_offer.txt).
  await rig.until(
    "claude's turn over",
    async () => (await screen()).includes("FINISHED-UNATT"),
  );
  const offer = /Make auto mode your default permission mode\?/;
  const local = JSON.parse(
    await Deno.readTextFile(
      join(
        listed[0].worktree as string,
        ".claude",
        "settings.local.json",
      ),
    ),
  );
  assert.equal(local.permissions.defaultMode, "default");
  await untilScreen(
    "claude idle at its prompt",
    (s) => /\? for shortcuts/.test(s) && !/esc to interrupt/i.test(s),
  );
  const tell = await w.paw([
    "tell",
    "feat-a",
    "--json",
    "please",
    "say",
    "TOLD-9",
  ]);
  assert.equal(tell.code, 0, tell.stderr);
  assert.equal(
    JSON.parse(tell.stdout).route,
    "keys",
    `${tell.stdout}\n${await screen()}`,
  );
  await rig.until(
    "the told turn answered",
    async () => (await screen()).includes("HEARD-TOLD-9"),
  );
  assert.doesNotMatch(await screen(), offer);
  assert.equal((await w.paw(["stop"])).code, 0);
});
