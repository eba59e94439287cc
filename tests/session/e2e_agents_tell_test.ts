/**
 * `git paw agents` and `git paw tell` end to end: a real session (tmux on
 * its own socket, the broker, the demo agent). `agents --json` lists the
 * agent with its pane, worktree and what it waits for; `tell` types into
 * the idle demo pane (the demo runs it as a task), queues `agent.feedback`
 * while the demo waits for an answer (not at its prompt), and refuses an
 * unknown agent with one line and nothing sent.
 */
import assert from "node:assert/strict";
import {
  capture,
  demoIdle,
  makeWorld,
  panes,
  statusJson,
  waitFor,
} from "./e2e_helpers.ts";

type AgentRow = {
  id: string;
  branch: string;
  cli: string;
  status: string;
  attention: string;
  pane: string | null;
  worktree: string;
  last_message: { type: string; summary: string } | null;
  waiting_for: { question: string | null; approval: unknown };
};

Deno.test("agents --json lists the demo agents; tell types into an idle pane and queues feedback when it is not at its prompt", async () => {
  await using w = await makeWorld();
  // feat-b asks a question after its first task and waits for an answer.
  w.env.GIT_PAW_DEMO_SCRIPT = JSON.stringify({
    "feat-b": ["ask:which port?"],
  });
  const r = await w.paw([
    "start",
    "--cli",
    "demo",
    "--branches",
    "feat-a,feat-b",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const st = await statusJson(w);
  const session = st.session!;
  const wt = (b: string) =>
    st.worktrees!.find((x) => x.branch === b)!.worktree_path;
  const pane = async (agent: string) =>
    (await panes(w, session)).find((p) => p.agent === agent)!.id;
  await demoIdle(w, await pane("feat-a"), wt("feat-a"));

  const agents = async (): Promise<AgentRow[]> => {
    const out = await w.paw(["agents", "--json"]);
    assert.equal(out.code, 0, out.stderr);
    return JSON.parse(out.stdout);
  };
  const rows = await waitFor("feat-b's question in agents --json", async () => {
    const list = await agents();
    return list.find((x) => x.id === "feat-b")?.waiting_for.question
      ? list
      : null;
  });
  assert.deepEqual(rows.map((x) => [x.id, x.cli]), [["feat-a", "demo"], [
    "feat-b",
    "demo",
  ]]);
  const a = rows[0]!;
  assert.equal(a.pane, await pane("feat-a"));
  assert.equal(a.worktree, wt("feat-a"));
  assert.ok(a.last_message, "feat-a has spoken");
  const b = rows[1]!;
  assert.equal(b.waiting_for.question, "which port?");
  assert.equal(b.attention, "needs_input");
  const text = await w.paw(["agents"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^AGENT\s+CLI\s+ATTENTION/);
  assert.match(text.stdout, /waits for: an answer: which port\?/);
  assert.ok(!text.stdout.includes("\x1b["), "NO_COLOR: no escapes");

  // Idle at its prompt: typed in, and the demo runs it as a task.
  const told = await w.paw([
    "tell",
    "feat-a",
    "write",
    "the",
    "TELL-1",
    "note",
  ]);
  assert.equal(told.code, 0, told.stderr);
  assert.match(told.stdout, /^typed into feat-a's pane \(%\d+\)$/m);
  await waitFor(
    "the typed task committed",
    async () =>
      (await w.git(["log", "--format=%s", "-1"], wt("feat-a"))).stdout
        .includes("write the TELL-1 note"),
  );

  // Waiting for an answer (not its prompt): queued as feedback.
  const queued = await w.paw(["tell", "feat-b", "--json", "use port 8080"]);
  assert.equal(queued.code, 0, queued.stderr);
  const q = JSON.parse(queued.stdout);
  assert.equal(q.route, "feedback");
  assert.match(q.why, /middle of a turn/);
  await waitFor(
    "the demo answering the feedback",
    async () =>
      (await capture(w, await pane("feat-b"))).includes(
        "address feedback from user: use port 8080",
      ),
  );
  // --queue forces the inbox even at the prompt.
  await demoIdle(w, await pane("feat-a"), wt("feat-a"));
  const forced = await w.paw(["tell", "--queue", "feat-a", "QUEUED-2"]);
  assert.match(
    forced.stdout,
    /^queued as agent\.feedback to feat-a: --queue$/m,
  );
  await waitFor(
    "the forced feedback answered",
    async () =>
      (await capture(w, await pane("feat-a"))).includes(
        "address feedback from user: QUEUED-2",
      ),
  );

  // The web page's Tell takes the same route: typed into the idle pane.
  // (Idle now: the demo's last state line, not an earlier one.)
  await waitFor("feat-a's last state line idle", async () => {
    const states = (await capture(w, await pane("feat-a"))).split("\n")
      .map((l) => l.trim())
      .filter((l) =>
        /^\[demo\] (idle|working on:|asked:|waiting:|bye|done:)/.test(l)
      );
    return states.at(-1)?.startsWith("[demo] idle") ?? false;
  });
  const webTell = (agent: string, text: string) =>
    fetch(`${st.broker_url}/needs-you/${agent}/tell`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-git-paw-csrf": "1",
        origin: st.broker_url!,
      },
      body: JSON.stringify({ text }),
    }).then(async (x) => ({ status: x.status, body: await x.json() }));
  const typed = await webTell("feat-a", "write the WEB-3 note");
  assert.equal(typed.status, 202, JSON.stringify(typed.body));
  assert.equal(typed.body.route, "keys", JSON.stringify(typed.body));
  await waitFor(
    "the task typed from the web committed",
    async () =>
      (await w.git(["log", "--format=%s", "-1"], wt("feat-a"))).stdout
        .includes("write the WEB-3 note"),
  );
  // Unknown agent: one line, exit 1, nothing sent.
  const before = (await w.paw(["agents", "--json"])).stdout;
  const bad = await w.paw(["tell", "feat-zz", "hello"]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, "");
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert.match(bad.stderr, /unknown agent 'feat-zz'.*agents: feat-a, feat-b/);
  assert.doesNotMatch(before, /feat-zz/);
  const log = await fetch(`${st.broker_url}/log?since=0`).then((x) => x.json());
  assert.ok(
    !(log.entries as Array<{ message: { agent_id?: string } }>).some((e) =>
      e.message.agent_id === "feat-zz"
    ),
  );
  assert.equal((await w.paw(["stop"])).code, 0);
});
