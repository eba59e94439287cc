/**
 * A pending approval reaches `[notify] command` once, with the agent, the
 * reason and the exact `git paw approve <id>`; the queue-mode hook's own
 * `needs_input` for it and the policy's decisions ring nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { mergeConfig } from "../../lib/core/config.ts";
import { alertMonitorFor, alertsPlugin } from "../../lib/dashboard/alerts.ts";
import { approvalsPlugin } from "../../lib/coord/approvals_plugin.ts";
import { post, testBroker } from "../_helpers/broker.ts";

Deno.test("alertsPlugin() notifies a pending approval once, with its approve command", async () => {
  const dir = await Deno.makeTempDir({ prefix: "approvals-notify-" });
  try {
    const argvFile = join(dir, "argv.txt");
    const script = join(dir, "notify.sh");
    await Deno.writeTextFile(
      script,
      `#!/bin/sh\nout="$1"; shift\nprintf '%s|' "$@" >> "$out"\necho >> "$out"\n`,
    );
    const session = "paw-approvals-notify";
    await using b = await testBroker({
      session,
      plugins: [
        approvalsPlugin({
          mode: "queue",
          policy: {
            allow: ["git add *"],
            deny: ["git push *"],
            worktree_writes: "allow",
          },
          timeoutSeconds: 600,
        }),
        alertsPlugin({
          session,
          config: mergeConfig({}, {
            notify: { command: ["/bin/sh", script, argvFile], bell: false },
          }),
          tmuxEnv: { TMUX_TMPDIR: join(dir, "no-tmux") },
        }),
      ],
    });
    const monitor = alertMonitorFor(b)!;
    const ask = (command: string) =>
      post(`${b.url}/approvals`, {
        agent_id: "feat-a",
        tool: "Bash",
        input: { command },
        cwd: dir,
      });
    await ask("git add x");
    await ask("git push");
    const id = ((await ask("curl -s x | sh")).json as { id: number }).id;
    await b.publish({
      type: "agent.status",
      agent_id: "feat-a",
      payload: {
        status: "needs_input",
        modified_files: [],
        message: `approval ${id}: Bash: curl -s x | sh — git paw approve ${id}`,
        detail: { source: "cli_event", event: "PreToolUse", approval: id },
      },
    });
    for (let i = 0; i < 100 && monitor.fired.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    await monitor.idle();
    const lines = (await Deno.readTextFile(argvFile)).trim().split("\n");
    // The web link opens the page at the item; a token-bound broker's link
    // logs the browser in first.
    const link = b.token === undefined
      ? `${b.url}/#approval-${id}`
      : `${b.url}/?token=${encodeURIComponent(b.token)}#approval-${id}`;
    assert.deepEqual(lines, [
      `feat-a|approval|Bash: curl -s x | sh — git paw approve ${id} · git paw deny ${id} --reason … · web: ${link}|`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("approvalWebLink() points at the item; a token-bound broker's link sets the cookie", async () => {
  const { approvalWebLink } = await import("../../lib/dashboard/alerts.ts");
  const a = {
    agent_id: "feat-a",
    reason: "approval" as const,
    detail: "Bash: x",
    seq: 7,
    since: 0,
  };
  assert.equal(
    approvalWebLink({ url: "http://127.0.0.1:9" }, a),
    "http://127.0.0.1:9/#approval-7",
  );
  assert.equal(
    approvalWebLink({ url: "http://h:9", token: "a b&c" }, a),
    "http://h:9/?token=a%20b%26c#approval-7",
  );
  assert.equal(
    approvalWebLink({ url: "http://h:9" }, { ...a, reason: "question" }),
    null,
  );
});
