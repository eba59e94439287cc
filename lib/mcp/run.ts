/**
 * `git paw mcp`: find the repo, set up logging (stderr plus `--log-file`,
 * never stdout), check agent mode's identity, then serve until stdin ends.
 * Needs `--allow-read`, `--allow-write` (log file, inbox cursor),
 * `--allow-run=git`, `--allow-net` (broker), `--allow-env`.
 * @module
 */
import { join } from "node:path";
import { AppError } from "../core/errors.ts";
import { slugify } from "../core/slug.ts";
import { repoRoot } from "../adapters/git.ts";
import { gitDirsFromLayout, worktreeTop } from "../adapters/git_layout.ts";
import { canonical } from "../adapters/fs.ts";
import { MARKER_FILE, readMarker, readMarkerFile } from "../coord/marker.ts";
import { eprintlnQuiet, reserveStdout } from "../output.ts";
import { VERSION } from "../version.ts";
import { trace } from "../trace.ts";
import type { McpCommandOptions, McpHost } from "./cli.ts";
import { createContext } from "./context.ts";

function mcpError(msg: string, cause?: unknown): AppError {
  return new AppError(`MCP error: ${msg}`, "mcp", { cause });
}

/** A logger to stderr and, when given, a file (opened once, appended). */
function openLog(path: string | undefined): (line: string) => void {
  let file: Deno.FsFile | null = null;
  if (path) {
    try {
      file = Deno.openSync(path, { append: true, create: true });
    } catch (e) {
      throw mcpError(
        `cannot open --log-file ${path}: ${(e as Error).message}`,
        e,
      );
    }
  }
  const enc = new TextEncoder();
  return (line: string) => {
    const text = `git-paw mcp: ${line}`;
    eprintlnQuiet(text);
    try {
      file?.writeSync(enc.encode(`${new Date().toISOString()} ${text}\n`));
    } catch { /* a full disk must not stop the server */ }
  };
}

/** The worktree to serve and its main checkout. */
async function resolveRoot(
  flag: string | undefined,
): Promise<{ root: string; repo: string }> {
  let start = Deno.cwd();
  if (flag !== undefined) {
    try {
      start = await Deno.realPath(flag);
    } catch (e) {
      throw mcpError(
        `--repo path ${flag} could not be opened: ${
          (e as Error).message
        }. Pass an existing repository path.`,
        e,
      );
    }
  }
  try {
    return { root: await worktreeTop(start), repo: await repoRoot(start) };
  } catch (e) {
    throw mcpError(
      flag !== undefined
        ? `--repo path ${start} is not inside a git repository. Point --repo at a directory of a git repo.`
        : "no git repository here. Run `git paw mcp` inside a git repository, or pass --repo <path> (clients that start servers from a fixed directory need it).",
      e,
    );
  }
}

/**
 * Agent mode at an agent worktree's top (where the CLIs start the server):
 * the worktree and its main checkout from the git layout and the marker,
 * without git processes. Null elsewhere: {@link resolveRoot} asks git.
 */
async function agentRoot(): Promise<{ root: string; repo: string } | null> {
  try {
    const cwd = Deno.cwd();
    const dirs = await gitDirsFromLayout(cwd);
    if (!dirs) return null;
    const marker = await readMarkerFile(join(dirs.gitDir, MARKER_FILE));
    if (!marker?.repo) return null;
    return { root: await canonical(cwd), repo: marker.repo };
  } catch {
    return null;
  }
}

/** Run the command; resolves when the client closes stdin. */
export async function runMcpCommand(
  o: McpCommandOptions,
  host: McpHost,
): Promise<void> {
  reserveStdout();
  // The server and the MCP SDK load while git finds the repo and the
  // config is read (a CLI may hold its first prompt until the server
  // answers: gemini does).
  const loading = import("./server.ts");
  loading.catch(() => {}); // awaited below
  const log = openLog(o.logFile);
  const { root, repo } =
    (o.agent && o.repo === undefined ? await agentRoot() : null) ??
      await resolveRoot(o.repo);
  trace("mcp: repo found");
  const ctx = createContext({
    root,
    repo,
    loadConfig: host.loadConfig,
    findSession: host.findSession,
    log,
  });
  let name = "git-paw";
  try {
    name = (await ctx.config()).mcp.name;
  } catch (e) {
    log(
      `config: ${
        (e as Error).message
      } (tools that need it will answer with an error)`,
    );
  }
  trace("mcp: config read");
  if (o.agent) {
    const marker = await readMarker(root);
    if (!marker) {
      throw mcpError(
        `--agent needs a git-paw agent worktree, and ${root} has no agent marker. Run it inside a worktree made by git paw start / add.`,
      );
    }
    const env = Deno.env.get("GIT_PAW_AGENT_ID");
    if (env && slugify(env) !== marker.agent_id) {
      log(
        `GIT_PAW_AGENT_ID=${env} is not this worktree's agent; using the worktree's identity ${marker.agent_id}`,
      );
    }
    log(`agent mode as ${marker.agent_id} (${marker.expected_branch})`);
  }
  const { serveMcp } = await loading;
  trace("mcp: server loaded");
  await serveMcp({ ctx, name, version: VERSION, agent: o.agent === true });
}
