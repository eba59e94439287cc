/**
 * The plugins of a standalone `git-paw broker` (composition root: the broker
 * knows no coordination or dashboard code; this module wires them in). The
 * same coordination plugins as a session's pane 0 (worktree watcher,
 * conflict detector, learnings when `[broker.learnings] enabled`), from the
 * config of the repo the command runs in (defaults outside a repo), plus
 * the live web page (`GET /`, `/events`).
 * @module
 */
import type { BrokerPlugin } from "../broker/api.ts";

/** Where a standalone broker runs. */
export type StandaloneContext = {
  session: string;
  /** The directory the command runs in (its repo, if any, gives the config). */
  cwd: string;
  /** Global config file (default: the user's, `$XDG_CONFIG_HOME/git-paw`). */
  globalConfigPath?: string;
};

/** Plugins for a standalone broker of `session` started in `cwd`. */
export async function standaloneBrokerPlugins(
  ctx: StandaloneContext,
): Promise<BrokerPlugin[]> {
  const [{ repoRoot }, { loadConfig }, { coordinationPlugins }, { webPlugin }] =
    await Promise.all([
      import("../adapters/git.ts"),
      import("../session/config_store.ts"),
      import("../coord/plugins.ts"),
      import("../dashboard/web.ts"),
    ]);
  const repo = await repoRoot(ctx.cwd).catch(() => null);
  const config = await loadConfig(repo, { globalPath: ctx.globalConfigPath });
  const coordination = coordinationPlugins({
    // Outside a repo, learnings and the integration lane (the plugins that
    // write into the repo) stay off; the watcher and conflicts need no repo
    // of their own.
    repo: repo ?? ctx.cwd,
    session: ctx.session,
    config,
  });
  const plugins = repo
    ? coordination
    : coordination.filter((p) =>
      p.name !== "learnings" && p.name !== "integration" &&
      p.name !== "review"
    );
  return [...plugins, webPlugin({ session: ctx.session })];
}
