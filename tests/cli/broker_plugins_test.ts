import assert from "node:assert/strict";
import { join } from "node:path";
import { standaloneBrokerPlugins } from "../../lib/cli/broker_plugins.ts";
import { initRepo } from "../_helpers/repo.ts";

Deno.test("standaloneBrokerPlugins() runs the session's coordination plugins, learnings when enabled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-standalone-" });
  try {
    const repo = join(dir, "repo");
    const outside = join(dir, "outside");
    await Deno.mkdir(outside);
    await initRepo(repo, { empty: true });
    const globalConfigPath = join(dir, "no-global.toml");
    const names = async (cwd: string) =>
      (await standaloneBrokerPlugins({ session: "s", cwd, globalConfigPath }))
        .map((p) => p.name);
    assert.deepEqual(await names(repo), [
      "outbox",
      "watcher",
      "conflict-detector",
      "approvals",
      "integration",
      "review",
      "web-dashboard",
    ]);
    await Deno.mkdir(join(repo, ".git-paw"));
    await Deno.writeTextFile(
      join(repo, ".git-paw", "config.toml"),
      "[broker.learnings]\nenabled = true\n\n[broker.conflicts]\nenabled = false\n",
    );
    assert.deepEqual(await names(repo), [
      "outbox",
      "watcher",
      "learnings",
      "approvals",
      "integration",
      "review",
      "web-dashboard",
    ]);
    // Outside a repo: defaults, no learnings file to write to, no branches
    // to integrate.
    assert.deepEqual(await names(outside), [
      "outbox",
      "watcher",
      "conflict-detector",
      "approvals",
      "web-dashboard",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
