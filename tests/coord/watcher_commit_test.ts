/**
 * The post-commit hook and the worktree watcher both report a commit of a
 * set-up agent worktree; a real broker keeps one artifact per commit,
 * also across a restart, and a commit made with hooks off still arrives.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { setupAgentWorktree } from "../../lib/coord/setup.ts";
import { watcherPlugin } from "../../lib/coord/watcher.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import type { Broker } from "../../lib/broker/api.ts";
import { addWorktree, git, SELF, tempRepo } from "./hooks_fixture.ts";
import { sleep } from "./plugins_helpers.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";
import { waitFor } from "../_helpers/wait.ts";
import { testBroker } from "../_helpers/broker.ts";

function withWatcher(dataDir: string) {
  return testBroker({
    dataDir,
    session: "paw-test",
    plugins: [watcherPlugin({ republishWorkingTtlSeconds: 60, log: () => {} })],
  });
}

async function commits(broker: Broker): Promise<string[]> {
  return (await broker.logSince(0)).flatMap((e) =>
    e.message.type === "agent.artifact" &&
      e.message.payload.status === "committed"
      ? [e.message.payload.commit ?? "(none)"]
      : []
  );
}

Deno.test("a commit reported by both the hook and the watcher is stored once; hooks off, the watcher alone reports it", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/x");
  const dataDir = join(t.root, "data");
  let broker = await withWatcher(dataDir);
  try {
    await setupAgentWorktree({
      repo: t.repo,
      project: "repo",
      agent: agentPlan({ branch: "feat/x", worktree: wt, cli: "demo" }),
      brokerUrl: broker.url,
      peers: [],
      config: defaultConfig(),
      hookSelf: SELF,
      warn: () => {},
    });
    await broker.watch({ agent_id: "feat-x", worktree_path: wt, cli: null });
    await sleep(200);
    await Deno.writeTextFile(join(wt, "one.ts"), "1\n");
    await git(wt, "add", "one.ts");
    await git(wt, "commit", "-qm", "one"); // the hook runs (and waits)
    const one = (await git(wt, "rev-parse", "HEAD")).trim();
    await sleep(300);
    assert.deepEqual(await commits(broker), [one]);

    await Deno.writeTextFile(join(wt, "two.ts"), "2\n");
    await git(wt, "add", "two.ts");
    await git(wt, "-c", "core.hooksPath=/dev/null", "commit", "-qm", "two");
    const two = (await git(wt, "rev-parse", "HEAD")).trim();
    await waitFor("two", async () => (await commits(broker)).length === 2);
    assert.deepEqual(await commits(broker), [one, two]);

    await broker.close();
    broker = await withWatcher(dataDir);
    await sleep(300);
    assert.deepEqual(await commits(broker), [one, two], "nothing re-reported");
  } finally {
    await broker.close();
  }
});
