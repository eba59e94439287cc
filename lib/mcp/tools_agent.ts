/**
 * Agent-mode MCP tools (`git paw mcp --agent`): the coordination an agent
 * does with `git paw publish …` / `inbox` / `done`, as tool calls. The
 * identity is the worktree's: its git-paw marker names the agent and the
 * broker (else the active session's broker). The wire messages are the
 * helper's, sent with its functions.
 * @module
 */
import { z } from "zod";
import { readMarker } from "../coord/marker.ts";
import { readAgentKey } from "../coord/credentials.ts";
import { gitDir } from "../adapters/git_layout.ts";
import {
  cursorPath,
  fetchInbox,
  type Identity,
  publishMessage,
  readCursor,
  writeCursor,
} from "../coord/helper.ts";
import type { McpContext } from "./context.ts";
import { defineTool, ToolCallError, type ToolDef } from "./tool.ts";

/** Reads one environment variable. */
export type EnvGetter = (name: string) => string | undefined;

/** Who the agent is and which broker it talks to, from the worktree. */
async function agentIdentity(
  ctx: McpContext,
  env: EnvGetter = (n) => Deno.env.get(n),
): Promise<Identity & { branch: string }> {
  const m = await readMarker(ctx.root);
  if (!m) {
    throw new ToolCallError(
      `${ctx.root} is not a git-paw agent worktree (no agent marker); start the agent with git paw start / add`,
    );
  }
  const session = m.broker_url ? null : await ctx.broker();
  const url = m.broker_url ?? session?.url;
  if (!url) {
    throw new ToolCallError(
      "no broker: the session of this repo is not active (git paw status)",
    );
  }
  // The agent's key file, next to the marker: its key, and the token.
  const cred = await gitDir(ctx.root).then(readAgentKey).catch(() => null);
  const token = env("GIT_PAW_BROKER_TOKEN") || cred?.token ||
    session?.token || (await ctx.session())?.broker_token;
  return {
    agentId: m.agent_id,
    branch: m.expected_branch,
    brokerUrl: url.replace(/\/+$/, ""),
    ...(token ? { token } : {}),
    ...(cred ? { agentKey: cred.key } : {}),
  };
}

async function send(
  ctx: McpContext,
  build: (agentId: string) => unknown,
): Promise<object> {
  const id = await agentIdentity(ctx);
  try {
    const { message, seq } = await publishMessage(id, build(id.agentId));
    ctx.log(`published ${message.type} as ${id.agentId}`);
    return { ok: true, agent_id: id.agentId, seq, message };
  } catch (e) {
    throw new ToolCallError((e as Error).message, { cause: e });
  }
}

const RegionInput = z.object({
  kind: z.enum(["function", "class", "block", "range"]),
  name: z.string().optional(),
  anchor: z.string().optional(),
  start_line: z.number().int().optional(),
  end_line: z.number().int().optional(),
});

/** The agent tools. */
export const AGENT_TOOLS: ToolDef[] = [
  defineTool("whoami", {
    description:
      "This worktree's agent identity: agent_id, branch and broker_url.",
    input: {},
    run: async (ctx) => {
      const id = await agentIdentity(ctx);
      return {
        agent_id: id.agentId,
        branch: id.branch,
        broker_url: id.brokerUrl,
      };
    },
  }),
  defineTool("publish_status", {
    description:
      "Publish agent.status: what you are doing (e.g. working, testing), optionally a one-line message, the files you modified and a phase.",
    input: {
      status: z.string(),
      message: z.string().optional(),
      files: z.array(z.string()).optional(),
      phase: z.string().optional(),
    },
    run: (ctx, a) =>
      send(ctx, (agent_id) => ({
        type: "agent.status",
        agent_id,
        payload: {
          status: a.status,
          modified_files: a.files ?? [],
          message: a.message ?? null,
          phase: a.phase ?? null,
        },
      })),
  }),
  defineTool("publish_intent", {
    description:
      "Publish agent.intent: claim files before editing them, each a path or {path, regions: [{kind: function|class|block|range, name|anchor|start_line+end_line}]}, with a summary and a lifetime (default 900 s).",
    input: {
      files: z.array(
        z.union([
          z.string(),
          z.object({
            path: z.string(),
            regions: z.array(RegionInput).optional(),
          }),
        ]),
      ).min(1),
      summary: z.string(),
      valid_for_seconds: z.number().int().min(1).max(86400).optional(),
    },
    run: (ctx, a) =>
      send(ctx, (agent_id) => ({
        type: "agent.intent",
        agent_id,
        payload: {
          files: a.files,
          summary: a.summary,
          ...(a.valid_for_seconds === undefined
            ? {}
            : { valid_for_seconds: a.valid_for_seconds }),
        },
      })),
  }),
  defineTool("publish_blocked", {
    description:
      "Publish agent.blocked: you wait for `needs` from agent `from`.",
    input: { needs: z.string(), from: z.string() },
    run: (ctx, a) =>
      send(ctx, (agent_id) => ({
        type: "agent.blocked",
        agent_id,
        payload: { needs: a.needs, from: a.from },
      })),
  }),
  defineTool("publish_question", {
    description: "Publish agent.question to the supervisor / human.",
    input: { question: z.string() },
    run: (ctx, a) =>
      send(ctx, (agent_id) => ({
        type: "agent.question",
        agent_id,
        payload: { question: a.question },
      })),
  }),
  defineTool("publish_done", {
    description:
      "Announce that your work is finished (commit first): agent.artifact done with your exports, preceded by agent.status done when a message is given.",
    input: {
      message: z.string().optional(),
      exports: z.array(z.string()).optional(),
    },
    run: async (ctx, a) => {
      if (a.message !== undefined) {
        await send(ctx, (agent_id) => ({
          type: "agent.status",
          agent_id,
          payload: { status: "done", modified_files: [], message: a.message },
        }));
      }
      return await send(ctx, (agent_id) => ({
        type: "agent.artifact",
        agent_id,
        payload: {
          status: "done",
          exports: a.exports ?? [],
          modified_files: [],
        },
      }));
    },
  }),
  defineTool("read_inbox", {
    description:
      "Messages for this agent since the last read (the cursor is shared with `git paw inbox`). `wait_seconds` long-polls (max 60); `all` starts from the first message; `peek` keeps the cursor.",
    input: {
      wait_seconds: z.number().int().min(0).max(60).optional(),
      all: z.boolean().optional(),
      peek: z.boolean().optional(),
    },
    run: async (ctx, a) => {
      const id = await agentIdentity(ctx);
      const path = await cursorPath(ctx.root);
      const stored = await readCursor(path, id);
      const since = a.all ? 0 : stored;
      let page;
      try {
        page = await fetchInbox(id, since, a.wait_seconds ?? 0);
      } catch (e) {
        throw new ToolCallError((e as Error).message, { cause: e });
      }
      const next = Math.max(since, page.last_seq);
      if (!a.peek && next !== stored) await writeCursor(path, id, next);
      return {
        agent_id: id.agentId,
        since,
        last_seq: page.last_seq,
        messages: page.messages,
      };
    },
  }),
];
