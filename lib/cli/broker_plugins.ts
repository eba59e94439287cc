/**
 * The plugins of a standalone `git-paw broker` (composition root: the broker
 * knows no coordination or dashboard code; this module wires them in). The
 * same coordination plugins as a session's pane 0 (worktree watcher,
 * conflict detector, learnings when `[broker.learnings] enabled`), from the
 * config of the repo the command runs in (defaults outside a repo), plus
 * the live web page (`GET /`, `/events`).
 * @module
 */
import type { AgentCredentials, BrokerPlugin } from "../broker/api.ts";

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

/**
 * The keys of a standalone `git paw broker --require-credentials` started
 * in `ctx.cwd`: those of the agent worktrees git-paw set up in that repo
 * (each marked worktree's `<git-dir>/paw-agent-key`, looked up again when an
 * unknown agent or a wrong key comes) and the supervisor's, minted in the
 * broker's data dir. Outside a repo only the supervisor has one.
 */
export async function standaloneCredentials(
  ctx: { session: string; cwd: string; dataDir: string },
): Promise<{ credentials: AgentCredentials; notes: string[] }> {
  const [{ gitCommonDir }, creds] = await Promise.all([
    import("../adapters/git_layout.ts"),
    import("../coord/credentials.ts"),
  ]);
  const common = await gitCommonDir(ctx.cwd).catch(() => null);
  await creds.supervisorCredential(ctx.dataDir);
  const credentials = creds.keyRegistry({
    stateDir: ctx.dataDir,
    agents: () =>
      common ? creds.markedWorktrees(common) : Promise.resolve(new Map()),
  });
  return {
    credentials,
    notes: [
      `note: credentials required: agents send X-Git-Paw-Agent-Key from their worktree's <git-dir>/paw-agent-key${
        common ? "" : " (outside a repo: none known)"
      }; the supervisor's key is in ${creds.supervisorKeyPath(ctx.dataDir)}`,
    ],
  };
}
