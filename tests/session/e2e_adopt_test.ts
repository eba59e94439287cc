/**
 * `start` launches pane 0 (dashboard + broker) before the agent worktrees
 * exist, so the broker boots while they are made. Its watcher must still
 * take every agent on: an edit in an agent's worktree shows up as that
 * agent "working" in `/status`, with no agent publishing anything itself.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  freePort,
  makeWorld,
  statusJson,
  waitFor,
  withBrokerPort,
} from "./e2e_helpers.ts";

type Roster = { agents: Array<{ agent_id: string; status: string }> };

Deno.test("git paw start with the broker watches every agent worktree although pane 0 starts before them", async () => {
  await using w = await makeWorld({ project: "adopt" });
  await w.writeConfig(
    withBrokerPort(`[clis.idle]\ncommand = "sleep 600"\n`, freePort()),
  );
  // Slow worktree creation down (git runs post-checkout for every
  // `worktree add`) so pane 0 surely reads the receipt before it lists any
  // agent.
  const hook = join(w.repo, ".git", "hooks", "post-checkout");
  await Deno.writeTextFile(hook, "#!/bin/sh\nsleep 1\n");
  await Deno.chmod(hook, 0o755);
  const r = await w.paw(["start", "--cli", "idle", "--branches", "a,b,c"]);
  assert.equal(r.code, 0, r.stderr);
  const st = await statusJson(w);
  const url = st.broker_url!;
  assert.ok(url, "a broker URL is recorded");
  // Nothing has published: the roster is empty until the watcher sees work.
  const before = await (await fetch(`${url}/status`)).json() as Roster;
  assert.deepEqual(before.agents, []);
  for (const wt of st.worktrees!) {
    await Deno.writeTextFile(join(wt.worktree_path, "note.txt"), "edit\n");
  }
  const roster = await waitFor("all three agents working", async () => {
    const doc = await (await fetch(`${url}/status`)).json() as Roster;
    const ids = doc.agents.filter((a) => a.status === "working")
      .map((a) => a.agent_id).sort();
    return ids.length === 3 ? ids : null;
  });
  assert.deepEqual(roster, ["a", "b", "c"]);
});
