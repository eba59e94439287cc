/**
 * `git paw init` (docs/REFERENCE.md, "Other commands"): create `.git-paw/` with `logs/` and `tmp/`,
 * write a commented config template when none exists (or append a missing
 * `[supervisor]` table), and add git-paw's local paths to `.gitignore`.
 *
 * Differences from the original: `scripts/sweep.sh` is not written (it
 * served the original's supervisor skill; here git-paw runs the gates
 * itself), and init never prompts: the supervisor table is written disabled.
 * @module
 */
import { join } from "node:path";
import { existsSync } from "../adapters/fs.ts";
import { repoRoot } from "../adapters/git.ts";
import { repoConfigPath } from "./config_store.ts";
import { preparePaneLogRoot } from "../dashboard/pane_log.ts";
import { eprintln, println } from "../output.ts";
import type { Out } from "./cli_cmds.ts";

/** Lines `init` makes sure `.gitignore` has. */
export const GITIGNORE_LINES = [
  ".git-paw/logs/",
  ".git-paw/tmp/",
  ".git-paw/session-summary.md",
  ".git-paw/sessions/",
  ".git-paw/worktrees/",
];

const SUPERVISOR_TABLE = `
# Supervisor mode (a coordinating agent in pane 0). Not used by bare sessions.
[supervisor]
enabled = false
`;

/** The commented config written by `init` when the repo has none. */
export function configTemplate(opts: { speckit?: boolean } = {}): string {
  const specs = opts.speckit
    ? `\n[specs]\ndir = ".specify/specs"\ntype = "speckit"\n`
    : "";
  return `# git-paw repo config. Keys here override ~/.config/git-paw/config.toml
# key by key. Every key is optional; the values shown are the defaults.

# default_cli = "claude"          # CLI used when --cli is not given
# mouse = true                     # tmux mouse mode for the session
# worktree_placement = "sibling"   # "sibling" (../<project>-<branch>) or "child" (.git-paw/worktrees/<slug>)
# branch_prefix = "spec/"

# [clis.mine]                      # a custom CLI, launched by its command
# command = "/usr/local/bin/mine --flag"
# display_name = "Mine"

# [presets.pair]                   # git paw start --preset pair
# branches = ["feat/api", "feat/ui"]
# cli = "claude"

# [broker]                         # the local message broker (on by default)
# enabled = true
# port = 9119
# bind = "127.0.0.1"

# [integration]                    # test the union of all agent branches on each commit
# enabled = true
# test_command = ["deno", "task", "test"]   # argv or a string; default: [supervisor] test_command
# timeout_seconds = 600            # a longer test run fails

# [notify]                         # run a command / ring the bell on notable events
# command = ["notify-send", "git-paw"]
# bell = true
# stall_threshold_seconds = 300

# [worktree]                       # make new worktrees runnable (see also .worktreeinclude)
# copy = [".env"]                  # ignored files copied in (gitignore syntax)
# setup = ["npm", "ci"]            # run in each new worktree before its agent starts
# ports = 10                       # PORT / GIT_PAW_PORTS block per agent (0 = none)
${specs}${SUPERVISOR_TABLE}`;
}

/** What {@link initRepo} did, as relative paths. */
export type InitResult = { created: string[]; updated: string[] };

/** Options for {@link initRepo}. */
export type InitOptions = { cwd?: string; io?: Out };

function hasSupervisorTable(text: string): boolean {
  return text.split(/\r?\n/).some((l) =>
    /^\s*\[supervisor\]\s*(#.*)?$/.test(l)
  );
}

/** `git paw init`. Idempotent: a second run changes nothing. */
export async function initRepo(opts: InitOptions = {}): Promise<InitResult> {
  const io = opts.io ?? { out: println, err: eprintln };
  const repo = await repoRoot(opts.cwd ?? Deno.cwd());
  const created: string[] = [];
  const updated: string[] = [];
  for (const rel of [".git-paw", ".git-paw/logs", ".git-paw/tmp"]) {
    const p = join(repo, rel);
    if (!existsSync(p)) {
      await Deno.mkdir(p, { recursive: true });
      created.push(`${rel}/`);
    }
  }
  // Pane logs: owner-only, ignored by git on their own.
  await preparePaneLogRoot(repo);
  const cfg = repoConfigPath(repo);
  if (!existsSync(cfg)) {
    const speckit = existsSync(join(repo, ".specify", "specs"));
    await Deno.writeTextFile(cfg, configTemplate({ speckit }));
    created.push(".git-paw/config.toml");
  } else {
    const text = await Deno.readTextFile(cfg);
    if (!hasSupervisorTable(text)) {
      const sep = text === "" || text.endsWith("\n") ? "" : "\n";
      await Deno.writeTextFile(cfg, text + sep + SUPERVISOR_TABLE);
      updated.push(".git-paw/config.toml");
    }
  }
  const gi = join(repo, ".gitignore");
  const had = existsSync(gi);
  const text = had ? await Deno.readTextFile(gi) : "";
  const lines = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const missing = GITIGNORE_LINES.filter((l) => !lines.has(l));
  if (missing.length > 0) {
    const sep = text === "" || text.endsWith("\n") ? "" : "\n";
    await Deno.writeTextFile(gi, text + sep + missing.join("\n") + "\n");
    (had ? updated : created).push(".gitignore");
  }
  for (const c of created) io.out(`  Created ${c}`);
  for (const u of updated) io.out(`  Updated ${u}`);
  io.out(
    created.length + updated.length > 0
      ? "Initialized git-paw."
      : "Already initialized. Nothing to do.",
  );
  return { created, updated };
}
