/**
 * The MCP server over stdio (`git paw mcp`): JSON-RPC frames on stdin and
 * stdout, nothing else on stdout. Lists the tools, validates arguments,
 * dispatches calls; resolves when stdin ends. Loaded lazily: only this
 * command pays for the SDK.
 * @module
 */
import process from "node:process";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { AppError, errorText } from "../core/errors.ts";
import type { McpContext } from "./context.ts";
import { inputJsonSchema, ToolCallError, type ToolDef } from "./tool.ts";
import { SESSION_TOOLS } from "./tools_session.ts";
import { PROJECT_TOOLS } from "./tools_project.ts";
import { SOURCE_TOOLS } from "./tools_source.ts";
import { AGENT_TOOLS } from "./tools_agent.ts";
import { trace } from "../trace.ts";
import { instructionsFor } from "./about.ts";

/** The 28 read-only tools. */
const READ_ONLY_TOOLS: readonly ToolDef[] = [
  ...SESSION_TOOLS,
  ...PROJECT_TOOLS,
  ...SOURCE_TOOLS,
];

/** The tools served: the read-only ones, plus the agent tools in agent mode. */
export function toolsFor(agent: boolean): ToolDef[] {
  return agent ? [...READ_ONLY_TOOLS, ...AGENT_TOOLS] : [...READ_ONLY_TOOLS];
}

/**
 * A JSON-RPC error with a clean message (the SDK's `McpError` prefixes its
 * message with "MCP error <code>:", which the client then repeats).
 */
class RpcError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One `tools/call` request: the tools served, the name and the arguments. */
export type ToolCall = {
  tools: readonly ToolDef[];
  name: string;
  args: unknown;
};

/** Answer one `tools/call`. */
export async function callTool(
  ctx: McpContext,
  call: ToolCall,
): Promise<CallToolResult> {
  const { tools, name, args } = call;
  const t = tools.find((x) => x.name === name);
  if (!t) {
    throw new RpcError(ErrorCode.InvalidParams, `tool not found: ${name}`);
  }
  const parsed = t.input.safeParse(args ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) =>
      `${i.path.map(String).join(".") || "(arguments)"}: ${i.message}`
    ).join("; ");
    throw new RpcError(
      ErrorCode.InvalidParams,
      `invalid arguments for ${name}: ${issues}`,
    );
  }
  try {
    const value = await t.run(ctx, parsed.data as Record<string, unknown>);
    return {
      content: [{ type: "text", text: JSON.stringify(value) }],
      structuredContent: value as Record<string, unknown>,
    };
  } catch (e) {
    if (e instanceof ToolCallError) {
      ctx.log(`${name}: ${e.message}`);
      return { content: [{ type: "text", text: e.message }], isError: true };
    }
    ctx.log(`${name} failed: ${errorText(e)}`);
    if (e instanceof McpError || e instanceof RpcError) throw e;
    throw new RpcError(
      ErrorCode.InternalError,
      e instanceof AppError ? e.message : `MCP error: ${errorText(e)}`,
    );
  }
}

/** Options of {@link serveMcp}. */
export type ServeOptions = {
  ctx: McpContext;
  /** Server name (`[mcp] name`). */
  name: string;
  version: string;
  /** Also serve the agent tools. */
  agent: boolean;
};

/** A server with its handlers, not yet connected. */
export type McpServer = {
  server: Server;
  /** Calls being answered (the server answers them before it stops). */
  inFlight: Set<Promise<unknown>>;
  tools: readonly ToolDef[];
};

/** The SDK server answering `tools/list` and `tools/call`. */
export function createMcpServer(o: ServeOptions): McpServer {
  const tools = toolsFor(o.agent);
  const server = new Server(
    { name: o.name, version: o.version },
    {
      capabilities: { tools: {} },
      instructions: instructionsFor(o.agent),
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: listedTools(tools),
  }));
  // Calls still running when stdin ends are answered before the server
  // stops (a client may write its last request and close at once).
  const inFlight = new Set<Promise<unknown>>();
  server.setRequestHandler(
    CallToolRequestSchema,
    async (req: CallToolRequest) => {
      o.ctx.log(`call ${req.params.name}`);
      const p = callTool(o.ctx, {
        tools,
        name: req.params.name,
        args: req.params.arguments,
      });
      inFlight.add(p);
      try {
        return await p;
      } finally {
        inFlight.delete(p);
      }
    },
  );
  return { server, inFlight, tools };
}

/** The `tools/list` entries of `tools`. */
export function listedTools(tools: readonly ToolDef[]): Array<{
  name: string;
  description: string;
  inputSchema: { type: "object"; [k: string]: unknown };
}> {
  return tools.map((t) => ({
    name: t.name,
    description: t.description,
    inputSchema: inputJsonSchema(t) as {
      type: "object";
      [k: string]: unknown;
    },
  }));
}

/** Serve on stdin/stdout until stdin ends (or the client disconnects). */
export async function serveMcp(o: ServeOptions): Promise<void> {
  const { server, inFlight, tools } = createMcpServer(o);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
    process.stdin.once("close", () => resolve());
  });
  await server.connect(new StdioServerTransport());
  o.ctx.log(`serving ${o.ctx.root} (${tools.length} tools)`);
  trace("mcp: serving");
  await closed;
  await Promise.allSettled([...inFlight]);
  // Let the transport flush the last answers.
  await new Promise((r) => setTimeout(r, 0));
  await server.close().catch(() => {});
  o.ctx.log("stdin closed; MCP server stopped");
}
