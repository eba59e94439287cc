/**
 * `git paw approve`, `deny` and `approvals` as a user runs them: real
 * processes against a real broker with the approval queue.
 */
import assert from "node:assert/strict";
import { pawCommand } from "../_helpers/paw_command.ts";
import { post, testBroker } from "../_helpers/broker.ts";
import { approvalsPlugin } from "../../lib/coord/approvals_plugin.ts";

const TOKEN = "tok-123";

async function paw(args: string[], extraEnv: Record<string, string> = {}) {
  const o = await pawCommand(args, {
    env: {
      NO_COLOR: "1",
      GIT_PAW_BROKER_URL: "",
      GIT_PAW_BROKER_TOKEN: "",
      GIT_PAW_AGENT_ID: "",
      ...extraEnv,
    },
    cwd: "/",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  };
}

Deno.test("approve, deny and approvals decide and list the queue", async () => {
  await using b = await testBroker({
    token: TOKEN,
    plugins: [approvalsPlugin({
      mode: "queue",
      policy: { allow: ["git add *"], deny: [], worktree_writes: "allow" },
      timeoutSeconds: 600,
    })],
  });
  const file = async (command: string) =>
    ((await post(`${b.url}/approvals`, {
      agent_id: "feat-a",
      cli: "claude",
      tool: "Bash",
      input: { command },
      cwd: "/tmp",
    }, { authorization: `Bearer ${TOKEN}` })).json as { id: number }).id;
  const a = await file("npm install left-pad");
  const d = await file("curl -s https://e.com/x.sh");
  await file("git add .");
  const t = ["--broker", b.url, "--token", TOKEN];

  const pending = await paw(["approvals", "--pending", "--json", ...t]);
  assert.equal(pending.code, 0, pending.stderr);
  const rows = JSON.parse(pending.stdout).approvals;
  assert.deepEqual(rows.map((r: { id: number }) => r.id), [a, d]);

  const ok = await paw(["approve", String(a), ...t]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(
    ok.stdout,
    new RegExp(`Approved #${a} \\(feat-a: Bash: npm install left-pad\\)`),
  );
  const no = await paw([
    "deny",
    String(d),
    "--reason",
    "use the vendored copy",
    ...t,
  ]);
  assert.equal(no.code, 0, no.stderr);
  assert.match(no.stdout, /Denied .* — use the vendored copy/);

  const twice = await paw(["approve", String(d), ...t]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /already decided \(deny by user via cli\)/);
  assert.equal((await paw(["deny", "x", ...t])).code, 2);
  assert.equal((await paw(["approve", String(a), "--broker", b.url])).code, 1); // no token

  const audit = await paw(["approvals", ...t]);
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(
    audit.stdout,
    /npm install left-pad\n {4}allowed by user via cli at /,
  );
  assert.match(
    audit.stdout,
    /curl -s https:\/\/e.com\/x.sh\n {4}denied by user via cli at .* — use the vendored copy/,
  );
  assert.match(
    audit.stdout,
    /git add \.\n {4}allowed by policy: allow git add \* at /,
  );
  const last = await paw(["approvals", "--limit", "1", "--json", ...t]);
  assert.equal(JSON.parse(last.stdout).approvals.length, 1);

  const patterns = await paw(["approvals", "--patterns", "--json", ...t]);
  const groups = JSON.parse(patterns.stdout).approvals;
  assert.deepEqual(
    groups.map((
      g: { pattern: string; count: number; suggested_target: string },
    ) => [g.pattern, g.count, g.suggested_target]),
    [
      ["curl *", 1, "bundled-preset"],
      ["npm install *", 1, "bundled-preset"],
    ],
  );
  const table = await paw(["approvals", "--patterns", ...t]);
  assert.match(table.stdout, /^PATTERN\s+COUNT\s+SUGGEST\n/);
});

Deno.test("approve run by the supervisor (its pane's GIT_PAW_AGENT_ID) is recorded as decided by the supervisor", async () => {
  await using b = await testBroker({
    plugins: [approvalsPlugin({
      mode: "queue",
      policy: { allow: [], deny: [], worktree_writes: "allow" },
      timeoutSeconds: 600,
    })],
  });
  const id = ((await post(`${b.url}/approvals`, {
    agent_id: "feat-a",
    cli: "claude",
    tool: "Bash",
    input: { command: "npm test" },
    cwd: "/tmp",
  })).json as { id: number }).id;
  const ok = await paw(["approve", String(id), "--broker", b.url, "--json"], {
    GIT_PAW_AGENT_ID: "supervisor",
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).decision.by, "supervisor");
});
