/**
 * The fast start of `git paw mcp --agent`, the server every CLI starts per
 * agent at its launch (gemini and codex hold their first prompt until it
 * has answered `initialize` and `tools/list`): it answers those two (and
 * `ping`) from data, without the MCP SDK, zod and the tools, which load
 * only with the first other request (a `tools/call`) and then serve
 * everything, the earlier messages replayed to them first. So a CLI's boot
 * no longer waits for, or shares the CPU with, ~0.4 s of module loading.
 *
 * It takes over only when the cheap checks hold (an agent worktree's top
 * with a readable marker, no config file mentioning `mcp`, so the server's
 * name is the default); otherwise {@link runAgentFront} returns false and
 * the full start runs, as before. What it answers is what the SDK server
 * answers (tests/mcp/mcp_front_test.ts compares them); a message it is not
 * sure about goes to the SDK server.
 * @module
 */
import { plainGitDir, plainJoin } from "../coord/plain_layout.ts";
import { AppError } from "../core/errors.ts";
import { slugify } from "../core/slug.ts";
import { MARKER_FILE } from "../coord/marker_file.ts";
import { eprintlnQuiet, reserveStdout } from "../output.ts";
import { trace } from "../trace.ts";
import { VERSION } from "../version.ts";
import { instructionsFor } from "./about.ts";
import { AGENT_TOOL_LIST } from "./tool_list.gen.ts";

/** What the front needs from the entry layer. */
export type FrontHost = {
  /** The config files that may apply to `repo` (global, then repo). */
  configPaths(repo: string): string[];
  /** The full host, for the server behind the front. */
  full(): Promise<import("./cli.ts").McpHost>;
};

/** The protocol versions the SDK server accepts (its newest first). */
const SUPPORTED_PROTOCOL_VERSIONS = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
  "2024-10-07",
];

/**
 * The requests the SDK server has handlers for (tools only, no logging,
 * completions or tasks): any other method is "Method not found".
 */
const SERVED_METHODS = ["initialize", "ping", "tools/list", "tools/call"];

/** The id the replayed `initialize` carries; its answer is dropped. */
const REPLAY_ID = "git-paw-front-initialize";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A request the front can answer itself, or null (the SDK server does). */
function plainRequest(
  m: unknown,
): { id: string | number; method: string; params?: Json } | null {
  if (!isObject(m) || m.jsonrpc !== "2.0" || typeof m.method !== "string") {
    return null;
  }
  if (
    Object.keys(m).some((k) =>
      !["jsonrpc", "id", "method", "params"].includes(k)
    )
  ) return null;
  const id = m.id;
  if (typeof id !== "string" && !Number.isSafeInteger(id)) return null;
  if (m.params !== undefined && !isObject(m.params)) return null;
  const params = m.params as Json | undefined;
  if (params?._meta !== undefined && !isObject(params._meta)) return null;
  return { id: id as string | number, method: m.method, params };
}

/** The marker's agent fields, or null when it cannot be read plainly. */
async function readAgent(): Promise<
  { root: string; repo: string; agentId: string; branch: string } | null
> {
  try {
    const cwd = Deno.cwd();
    // The layout as lib/adapters/git_layout.ts reads it, without
    // `node:path` (~15 ms): this process is on the CLIs' boot path.
    const gitDir = plainGitDir(cwd, (n) => Deno.env.get(n));
    if (!gitDir) return null;
    const m = JSON.parse(
      await Deno.readTextFile(plainJoin(gitDir, MARKER_FILE)),
    ) as unknown;
    if (
      !isObject(m) || m.version !== 1 || typeof m.agent_id !== "string" ||
      typeof m.expected_branch !== "string" || typeof m.repo !== "string" ||
      !m.repo
    ) return null;
    return {
      root: await Deno.realPath(cwd), // `canonical()` of an existing dir
      repo: m.repo,
      agentId: m.agent_id,
      branch: m.expected_branch,
    };
  } catch {
    return null;
  }
}

/** True when no config file that applies mentions `mcp` (name: default). */
async function defaultName(paths: string[]): Promise<boolean> {
  for (const p of paths) {
    let text: string;
    try {
      text = await Deno.readTextFile(p);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      return false;
    }
    // A quoted key may spell `mcp` with escapes.
    if (text.includes("mcp") || text.includes("\\u") || text.includes("\\U")) {
      return false;
    }
  }
  return true;
}

/** The transport the SDK server gets behind the front. */
type FrontTransport = {
  start(): Promise<void>;
  send(message: unknown): Promise<void>;
  close(): Promise<void>;
  onmessage?: (message: unknown) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
};

/**
 * Serve `git paw mcp --agent` through the front; false (before reading
 * stdin) when the cheap checks fail and the full start must run.
 */
export async function runAgentFront(host: FrontHost): Promise<boolean> {
  const agent = await readAgent();
  if (!agent) return false;
  let paths: string[];
  try {
    paths = host.configPaths(agent.repo);
  } catch {
    return false; // no HOME: the full start says so
  }
  if (!await defaultName(paths)) return false;
  await serve(agent, host);
  return true;
}

async function serve(
  agent: { root: string; repo: string; agentId: string; branch: string },
  host: FrontHost,
): Promise<void> {
  reserveStdout();
  const log = (line: string) => eprintlnQuiet(`git-paw mcp: ${line}`);
  const env = Deno.env.get("GIT_PAW_AGENT_ID");
  if (env && slugify(env) !== agent.agentId) {
    log(
      `GIT_PAW_AGENT_ID=${env} is not this worktree's agent; using the worktree's identity ${agent.agentId}`,
    );
  }
  log(`agent mode as ${agent.agentId} (${agent.branch})`);

  // Answers go out in order, one write at a time.
  const enc = new TextEncoder();
  let writing: Promise<void> = Promise.resolve();
  const write = (message: unknown): Promise<void> => {
    const bytes = enc.encode(JSON.stringify(message) + "\n");
    writing = writing.then(async () => {
      let off = 0;
      while (off < bytes.length) {
        off += await Deno.stdout.write(bytes.subarray(off));
      }
    }).catch(() => {});
    return writing;
  };

  // Messages for the SDK server: the replayed ones, then what came after.
  const replay: unknown[] = [];
  let full: Promise<FrontTransport> | null = null;
  let stopFull: (() => Promise<void>) | null = null;
  const handOver = (): Promise<FrontTransport> => {
    full ??= (async () => {
      trace("mcp front: handing over");
      const { serveBehindFront } = await import("./front_full.ts");
      const t: FrontTransport = {
        start: () => Promise.resolve(),
        send: (message) => {
          if (isObject(message) && message.id === REPLAY_ID) {
            return Promise.resolve();
          }
          return write(message);
        },
        close: () => Promise.resolve(),
      };
      try {
        stopFull = await serveBehindFront({
          root: agent.root,
          repo: agent.repo,
          host: await host.full(),
          log,
          transport: t,
        });
      } catch (e) {
        // What the full start does with it (main.ts).
        await writing;
        eprintlnQuiet(`error: ${(e as Error).message}`);
        Deno.exit(e instanceof AppError ? e.exitCode : 1);
      }
      trace("mcp front: handed over");
      for (const m of replay.splice(0)) t.onmessage?.(m);
      return t;
    })();
    return full;
  };
  // What reaches the SDK server keeps the order it came in.
  let forwarding: Promise<void> = Promise.resolve();
  const forward = (m: unknown) => {
    forwarding = forwarding.then(async () => {
      const t = await handOver();
      t.onmessage?.(m);
    });
    return forwarding;
  };

  const answer = (m: unknown) => {
    if (full) return void forward(m);
    const r = plainRequest(m);
    if (r?.method === "initialize" && initializeOk(r.params)) {
      const requested = r.params!.protocolVersion as string;
      void write({
        result: {
          protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
            ? requested
            : SUPPORTED_PROTOCOL_VERSIONS[0],
          capabilities: { tools: {} },
          serverInfo: { name: "git-paw", version: VERSION },
          instructions: instructionsFor(true),
        },
        jsonrpc: "2.0",
        id: r.id,
      });
      replay.push({ ...(m as Json), id: REPLAY_ID });
      trace("mcp front: initialize answered");
      return;
    }
    if (
      r?.method === "tools/list" &&
      (r.params?.cursor === undefined || typeof r.params.cursor === "string")
    ) {
      void write({
        result: { tools: AGENT_TOOL_LIST },
        jsonrpc: "2.0",
        id: r.id,
      });
      trace("mcp front: tools/list answered");
      return;
    }
    if (r?.method === "ping") {
      void write({ result: {}, jsonrpc: "2.0", id: r.id });
      return;
    }
    if (r && !SERVED_METHODS.includes(r.method)) {
      // What the SDK server answers for a method it has no handler for
      // (clients ask for prompts and resources even so).
      void write({
        jsonrpc: "2.0",
        id: r.id,
        error: { code: -32601, message: "Method not found" },
      });
      trace(`mcp front: ${r.method} not found`);
      return;
    }
    if (isNotification(m)) {
      replay.push(m);
      return;
    }
    trace(`mcp front: handing over at ${r?.method ?? "a message"}`);
    void forward(m);
  };

  log(`serving ${agent.root} (${AGENT_TOOL_LIST.length} tools)`);
  trace("mcp: serving");
  const dec = new TextDecoder();
  let buf = "";
  try {
    for await (const chunk of Deno.stdin.readable) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, "");
        buf = buf.slice(i + 1);
        let m: unknown;
        try {
          m = JSON.parse(line);
        } catch {
          continue; // the SDK's transport drops it too
        }
        answer(m);
      }
    }
  } catch { /* stdin gone: stop as at its end */ }
  await forwarding;
  if (stopFull) await (stopFull as () => Promise<void>)();
  await writing;
  if (!full) log("stdin closed; MCP server stopped");
}

/** A JSON-RPC notification (the SDK server gets those replayed). */
function isNotification(m: unknown): boolean {
  return isObject(m) && m.jsonrpc === "2.0" && typeof m.method === "string" &&
    !("id" in m);
}

/** `initialize` params the SDK server would accept as they are. */
function initializeOk(p: Json | undefined): boolean {
  if (!p || typeof p.protocolVersion !== "string") return false;
  if (!isObject(p.capabilities) || !isObject(p.clientInfo)) return false;
  return typeof p.clientInfo.name === "string" &&
    typeof p.clientInfo.version === "string";
}
