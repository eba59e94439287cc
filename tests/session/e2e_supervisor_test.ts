/**
 * Supervisor mode end to end, as a user runs it, on a real repo and an
 * isolated real tmux server with the `demo` agent: `start --supervisor`
 * opens the supervisor pane in the repo root beside the dashboard, writes
 * its instructions into the root AGENTS.md (the user's text kept), shows
 * the supervisor row in `status` and on the dashboard, runs
 * `[supervisor] test_command` on every commit (agent.verified for a
 * passing one, agent.feedback with the output for a failing one), nudges
 * the supervisor, and `purge` leaves the repo root as it was.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  capture,
  demoIdle,
  exists,
  makeWorld,
  panes,
  statusJson,
  waitFor,
  type World,
} from "./e2e_helpers.ts";

const USER_AGENTS_MD = "# Project rules\n\nUse tabs.\n";
const CHECK = `#!/bin/sh
echo "gate check in $(pwd)"
if [ -f FAIL ]; then echo "FAIL marker present: $(cat FAIL)"; exit 4; fi
echo "gate ok"
`;

type LogMsg = {
  type: string;
  agent_id?: string;
  branch_id?: string;
  payload?: { verified_by?: string; errors?: string[]; from?: string };
};

async function brokerLog(url: string): Promise<LogMsg[]> {
  const r = await fetch(`${url}/log?since=0&limit=1000`);
  const body = await r.json() as { entries: Array<{ message: LogMsg }> };
  return body.entries.map((e) => e.message);
}

async function repoWith(w: World): Promise<void> {
  await Deno.writeTextFile(join(w.repo, "AGENTS.md"), USER_AGENTS_MD);
  await Deno.writeTextFile(join(w.repo, "check.sh"), CHECK, { mode: 0o755 });
  for (
    const a of [
      ["add", "AGENTS.md", "check.sh"],
      ["commit", "-qm", "rules and check"],
    ]
  ) {
    const r = await w.git(a);
    assert.equal(r.code, 0, r.stderr);
  }
}

Deno.test({
  name:
    "git paw start --supervisor runs the supervisor pane in the repo root, gates every commit, and purge restores the repo root",
  async fn(t) {
    await using w = await makeWorld({ project: "proj" });
    await repoWith(w);
    await w.writeConfig(
      `[supervisor]\nenabled = false\ntest_command = "sh check.sh"\n`,
    );
    const S = "paw-proj";
    const wtA = join(w.root, "proj-feat-a");
    let url = "";

    await t.step(
      "start --supervisor builds supervisor, dashboard, agents",
      async () => {
        const r = await w.paw([
          "start",
          "--supervisor",
          "--cli",
          "demo",
          "--branches",
          "feat/a,feat/b",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          /Supervisor session 'paw-proj' launched with 2 coding agent\(s\)/,
        );
        const ps = await panes(w, S);
        assert.deepEqual(ps.map((p) => p.role), [
          "supervisor",
          "dashboard",
          "feat/a",
          "feat/b",
        ]);
        assert.equal(ps[0]!.agent, "supervisor");
        // Supervisor top left, dashboard top right, the agents in a row below.
        const geo = (await w.tmux([
          "list-panes",
          "-t",
          `=${S}:`,
          "-F",
          "#{pane_left} #{pane_top}",
        ])).stdout.trim().split("\n").map((l) => l.split(" ").map(Number));
        const [supAt, dashAt, aAt, bAt] = geo as [number, number][];
        assert.equal(supAt![0], 0);
        assert.equal(dashAt![1], supAt![1]);
        assert.ok(dashAt![0] > 0);
        assert.ok(aAt![1] > supAt![1] && aAt![1] === bAt![1] && aAt![0] === 0);
        assert.ok(bAt![0] > aAt![0]);
        // Its process runs in the repo root, not in an agent worktree.
        const cwd = await w.tmux([
          "display-message",
          "-p",
          "-t",
          ps[0]!.id,
          "#{pane_current_path}",
        ]);
        assert.equal(cwd.stdout.trim(), w.repo);
        await waitFor("the demo supervisor online", async () => {
          const text = await capture(w, ps[0]!.id);
          return text.includes("[demo] agent 'supervisor'") &&
            text.includes("supervising");
        }, 60_000);
        const st = await statusJson(w) as unknown as {
          mode: string;
          broker_url: string;
          supervisor: { agent_id: string; cli: string; cwd: string };
        };
        assert.equal(st.mode, "supervisor");
        assert.deepEqual(st.supervisor, {
          agent_id: "supervisor",
          cli: "demo",
          cwd: w.repo,
        });
        url = st.broker_url;
        // Its own status reached the broker: it speaks with the supervisor's
        // key (a session broker refuses `supervisor` without it).
        await waitFor("the supervisor's own status on the broker", async () => {
          const r = await fetch(`${url}/status`);
          const body = await r.json() as {
            agents: { agent_id: string; status: string; summary?: string }[];
          };
          return body.agents.some((a) =>
            a.agent_id === "supervisor" && a.status === "working"
          );
        }, 30_000);
        assert.doesNotMatch(
          await capture(w, ps[0]!.id),
          /broker refused/,
        );
        // The discovery file counts the supervisor's and dashboard's panes.
        const disc = JSON.parse(
          await Deno.readTextFile(
            join(w.repo, ".git-paw", "sessions", `${S}.json`),
          ),
        );
        assert.deepEqual(
          disc.agents.map((a: { pane_index: number }) => a.pane_index),
          [2, 3],
        );
        // Supervisor sessions queue the agents' permission requests.
        const receipt = JSON.parse(
          await Deno.readTextFile(
            join(w.root, "data", "git-paw", "sessions", `${S}.json`),
          ),
        );
        assert.equal(receipt.approvals_mode, "queue");
        assert.deepEqual(receipt.supervisor.cli, "demo");
        const text = await w.paw(["status"]);
        assert.match(
          text.stdout,
          new RegExp(`  supervisor → demo \\(${w.repo}\\)`),
        );
      },
    );

    await t.step(
      "the repo-root AGENTS.md carries the supervisor's block, the user's text kept",
      async () => {
        const md = await Deno.readTextFile(join(w.repo, "AGENTS.md"));
        assert.ok(md.startsWith(USER_AGENTS_MD), md);
        assert.match(md, /## git-paw Supervisor/);
        for (
          const cmd of [
            "git paw agents [--json]",
            "git paw tell <agent> <text>",
            "git paw approve ID",
            "git paw deny ID --reason TEXT",
            "git paw approvals --pending --json",
            "git paw publish verified <agent>",
            "git paw publish feedback <agent>",
          ]
        ) assert.ok(md.includes(cmd), `AGENTS.md names ${cmd}`);
        assert.match(md, /`feat-a` — branch `feat\/a`, CLI demo/);
        assert.match(md, /`test_command`: `sh check\.sh`/);
        // Hidden from git: the user's checkout stays clean.
        assert.equal((await w.git(["status", "--porcelain"])).stdout, "");
      },
    );

    await t.step(
      "the supervisor row shows on the broker and the dashboard",
      async () => {
        await waitFor("supervisor on the roster", async () => {
          const r = await fetch(`${url}/status`);
          const s = await r.json() as { agents: Array<{ agent_id: string }> };
          return s.agents.some((a) => a.agent_id === "supervisor");
        });
        const dash = (await panes(w, S)).find((p) => p.role === "dashboard")!;
        await waitFor(
          "the dashboard's supervisor row",
          async () => /supervisor\s+demo\b/.test(await capture(w, dash.id)),
        );
      },
    );

    await t.step(
      "every commit is gated by git-paw: verified when test_command passes",
      async () => {
        const ps = await panes(w, S);
        await demoIdle(w, ps[2]!.id, wtA);
        await waitFor(
          "agent.verified for feat-a by the gate",
          async () =>
            (await brokerLog(url)).some((m) =>
              m.type === "agent.verified" && m.agent_id === "feat-a" &&
              m.payload?.verified_by === "git-paw-gate"
            ),
          120_000, // a gate makes a scratch worktree: slow on a loaded CI machine
        );
        // The supervisor was nudged (its inbox, shown by the demo supervisor).
        await waitFor(
          "verify-now in the supervisor pane",
          async () =>
            (await capture(w, ps[0]!.id)).includes(
              "supervisor.verify-now from ?: branch feat-a",
            ),
        );
      },
    );

    await t.step(
      "a failing commit gets agent.feedback with the output",
      async () => {
        await Deno.writeTextFile(join(wtA, "FAIL"), "broken on purpose\n");
        for (const a of [["add", "FAIL"], ["commit", "-qm", "break it"]]) {
          const r = await w.git(a, wtA);
          assert.equal(r.code, 0, r.stderr);
        }
        const fb = await waitFor(
          "gate feedback to feat-a",
          async () =>
            (await brokerLog(url)).find((m) =>
              m.type === "agent.feedback" && m.agent_id === "feat-a" &&
              m.payload?.from === "git-paw-gate"
            ),
          120_000, // a gate makes a scratch worktree: slow on a loaded CI machine
        );
        const text = fb.payload!.errors![0]!;
        assert.match(text, /test_command `sh check\.sh` failed \(exit 4\)/);
        assert.match(text, /FAIL marker present: broken on purpose/);
        // Run in a scratch checkout under the session's state dir, not in
        // the agent's worktree.
        const scratch = join(w.root, "data", "git-paw", "sessions", S, "gates");
        assert.ok(text.includes(`gate check in ${scratch}/feat-a-`), text);
        assert.ok(exists(join(wtA, "FAIL")));
      },
    );

    await t.step(
      "add puts the new agent in the agent rows and in the supervisor's list",
      async () => {
        const r = await w.paw(["add", "feat/c", "--cli", "demo"]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual((await panes(w, S)).map((p) => p.role), [
          "supervisor",
          "dashboard",
          "feat/a",
          "feat/b",
          "feat/c",
        ]);
        assert.match(
          await Deno.readTextFile(join(w.repo, "AGENTS.md")),
          /`feat-c` — branch `feat\/c`, CLI demo/,
        );
        // pause closes the dashboard; start brings it back into its place.
        const pause = await w.paw(["pause"]);
        assert.equal(pause.code, 0, pause.stderr);
        assert.equal((await panes(w, S)).length, 4);
        const resume = await w.paw(["start"]);
        assert.equal(resume.code, 0, resume.stderr);
        assert.deepEqual((await panes(w, S)).map((p) => p.role), [
          "supervisor",
          "dashboard",
          "feat/a",
          "feat/b",
          "feat/c",
        ]);
        const rm = await w.paw(["remove", "feat/c", "--force"]);
        assert.equal(rm.code, 0, rm.stderr);
        assert.equal((await panes(w, S)).length, 4);
        assert.doesNotMatch(
          await Deno.readTextFile(join(w.repo, "AGENTS.md")),
          /feat-c/,
        );
      },
    );

    await t.step(
      "stop takes the supervisor's files out; start brings them and its pane back",
      async () => {
        const stop = await w.paw(["stop"]);
        assert.equal(stop.code, 0, stop.stderr);
        assert.equal(
          await Deno.readTextFile(join(w.repo, "AGENTS.md")),
          USER_AGENTS_MD,
        );
        assert.ok(!exists(join(w.repo, ".git", "paw-supervisor.json")));
        const start = await w.paw(["start"]);
        assert.equal(start.code, 0, start.stderr);
        const ps = await panes(w, S);
        assert.deepEqual(ps.map((p) => p.role), [
          "supervisor",
          "dashboard",
          "feat/a",
          "feat/b",
        ]);
        assert.match(
          await Deno.readTextFile(join(w.repo, "AGENTS.md")),
          /## git-paw Supervisor/,
        );
        await waitFor(
          "the demo supervisor online again",
          async () => (await capture(w, ps[0]!.id)).includes("supervising"),
          60_000,
        );
        // A closed supervisor pane comes back on the next start (reattach).
        await w.tmux(["kill-pane", "-t", ps[0]!.id]);
        const again = await w.paw(["start"]);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /Restarting the supervisor pane/);
        assert.deepEqual((await panes(w, S)).map((p) => p.role), [
          "supervisor",
          "dashboard",
          "feat/a",
          "feat/b",
        ]);
      },
    );

    await t.step(
      "purge removes the supervisor's files and restores AGENTS.md",
      async () => {
        const r = await w.paw(["purge", "--force"]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(
          await Deno.readTextFile(join(w.repo, "AGENTS.md")),
          USER_AGENTS_MD,
        );
        assert.ok(!exists(join(w.repo, ".git", "paw-supervisor.json")));
        assert.ok(!exists(wtA));
        assert.equal((await w.git(["status", "--porcelain"])).stdout, "");
        const hidden = await w.git(["ls-files", "-v", "AGENTS.md"]);
        assert.equal(hidden.stdout, "H AGENTS.md\n", "skip-worktree cleared");
      },
    );
  },
});

Deno.test("start: --no-supervisor wins over [supervisor] enabled; the cap and --no-broker are refused with one line, nothing made", async () => {
  await using w = await makeWorld({ project: "proj" });
  await w.writeConfig(`[supervisor]\nenabled = true\n`);
  const on = await w.paw([
    "start",
    "--dry-run",
    "--cli",
    "demo",
    "--branches",
    "feat/a",
  ]);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, new RegExp(`Supervisor: demo \\(${w.repo}\\)`));
  const off = await w.paw([
    "start",
    "--dry-run",
    "--no-supervisor",
    "--cli",
    "demo",
    "--branches",
    "feat/a",
  ]);
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stdout, /Supervisor:/);

  const many = Array.from({ length: 26 }, (_, i) => `feat/n${i}`).join(",");
  const capped = await w.paw([
    "start",
    "--supervisor",
    "--cli",
    "demo",
    "--branches",
    many,
  ]);
  assert.equal(capped.code, 1);
  assert.equal(
    capped.stderr,
    "error: Config error: 26 agents requested; maximum is 25 per session. Split the work into several sessions (one per repo clone).\n",
  );
  const noBroker = await w.paw([
    "start",
    "--supervisor",
    "--no-broker",
    "--cli",
    "demo",
    "--branches",
    "feat/a",
  ]);
  assert.equal(noBroker.code, 1);
  assert.match(
    noBroker.stderr,
    /^error: Config error: supervisor mode needs the broker/,
  );
  assert.equal(noBroker.stderr.split("\n").length, 2);
  // Nothing was made: no session, no worktree, no branch, no receipt.
  assert.notEqual((await w.tmux(["has-session", "-t", "=paw-proj"])).code, 0);
  assert.equal((await w.git(["branch", "--list", "feat/*"])).stdout, "");
  assert.equal(
    (await w.paw(["status", "--json"])).stdout.trim(),
    '{\n  "session": null\n}',
  );
  assert.ok(!exists(join(w.repo, "AGENTS.md")));
});
