/**
 * A session broker bound beyond loopback requires a bearer token (docs/REFERENCE.md, "Broker wire format":
 * broker hardening). `start` makes one, hands it to pane 0 and to every
 * agent pane (`GIT_PAW_BROKER_TOKEN`), keeps it in the owner-only receipt and
 * prints the web dashboard link with it; a client without it is refused.
 * The agents' key files carry it too, so the curl recipes need no env.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, makeWorld, waitFor } from "./e2e_helpers.ts";

type Roster = { session: string; agents: Array<{ agent_id: string }> };

Deno.test("git paw start with [broker] bind = 0.0.0.0 gives every pane a token the broker demands", async () => {
  await using w = await makeWorld({ project: "wide" });
  const port = freePort();
  await w.writeConfig(`[broker]\nbind = "0.0.0.0"\nport = ${port}\n`);
  const r = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(r.code, 0, r.stderr);
  const receiptFile = join(
    w.root,
    "data",
    "git-paw",
    "sessions",
    "paw-wide.json",
  );
  const receipt = JSON.parse(await Deno.readTextFile(receiptFile));
  const token: string = receipt.broker_token;
  assert.match(token, /^[A-Za-z0-9_-]{32}$/);
  assert.equal((await Deno.stat(receiptFile)).mode! & 0o777, 0o600);
  assert.ok(
    r.stderr.includes(
      `Web dashboard: http://0.0.0.0:${port}/?token=${token}`,
    ),
    r.stderr,
  );
  const url = `http://127.0.0.1:${port}`;
  const anonymous = await fetch(`${url}/status`);
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
  const auth = { authorization: `Bearer ${token}` };
  // The demo agent publishes with the token from its pane's environment.
  const roster = await waitFor("the demo agent in the roster", async () => {
    const res = await fetch(`${url}/status`, { headers: auth });
    const doc = await res.json() as Roster;
    return doc.agents.some((a) => a.agent_id === "feat-a") ? doc : null;
  });
  assert.equal(roster.session, "paw-wide");
  const status = await w.paw(["status"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Broker: +http:\/\/0\.0\.0\.0:\d+ \(running\)/);
  assert.ok(status.stdout.includes(`?token=${token}`), status.stdout);
  // `status --json` keeps its documented shape (docs/REFERENCE.md, "Other commands"): no secret in it.
  const json = await w.paw(["status", "--json"]);
  assert.ok(!json.stdout.includes(token));
  // The curl recipe in the agent's AGENTS.md sends the agent's key file,
  // which holds the token too: it needs no environment.
  const agentsMd = await Deno.readTextFile(
    join(receipt.worktrees[0].worktree_path, "AGENTS.md"),
  );
  const recipe = agentsMd.split("\n").find((l) =>
    l.startsWith("curl -s") && l.includes("/messages/feat-a?since=")
  );
  assert.ok(recipe, agentsMd);
  assert.match(recipe, /^curl -s -K \S+paw-agent-key /);
  assert.ok(!recipe.includes("$GIT_PAW_BROKER_TOKEN"), recipe);
  assert.ok(!agentsMd.includes(token), "the token itself is not in AGENTS.md");
  const curl = (line: string) =>
    new Deno.Command("bash", {
      args: [
        "-c",
        `${line.replace("since=N", "since=0")} -o /dev/null -w '%{http_code}'`,
      ],
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const run = await curl(recipe);
  assert.equal(new TextDecoder().decode(run.stdout), "200");
  // Without the key file's headers: no token, refused.
  const without = await curl(recipe.replace(/ -K \S+/, ""));
  assert.equal(new TextDecoder().decode(without.stdout), "401");
});
