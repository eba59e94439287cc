/**
 * The SDK server behind the fast start ({@link ./front.ts}): loaded with
 * the first request the front does not answer itself. It checks what the
 * full start checks before serving (the marker against its schema, the
 * config), then serves every message the front hands on.
 * @module
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { AppError } from "../core/errors.ts";
import { readMarker } from "../coord/marker.ts";
import { VERSION } from "../version.ts";
import type { McpHost } from "./cli.ts";
import { createContext } from "./context.ts";
import { createMcpServer } from "./server.ts";

/** Inputs of {@link serveBehindFront}. */
export type BehindFront = {
  root: string;
  repo: string;
  host: McpHost;
  log: (line: string) => void;
  /** Gets the front's messages on `onmessage`; `send` writes to stdout. */
  transport: {
    start(): Promise<void>;
    send(message: unknown): Promise<void>;
    close(): Promise<void>;
    onmessage?: (message: unknown) => void;
    onclose?: () => void;
    onerror?: (error: Error) => void;
  };
};

/**
 * Connect the SDK server to the front's transport; resolves to the stop
 * function (answers the calls in flight, then closes the server).
 * @throws {AppError} when the worktree's marker does not hold (as the full
 * start would at its start).
 */
export async function serveBehindFront(
  o: BehindFront,
): Promise<() => Promise<void>> {
  const ctx = createContext({
    root: o.root,
    repo: o.repo,
    loadConfig: o.host.loadConfig,
    findSession: o.host.findSession,
    log: o.log,
  });
  try {
    await ctx.config();
  } catch (e) {
    o.log(
      `config: ${
        (e as Error).message
      } (tools that need it will answer with an error)`,
    );
  }
  if (!await readMarker(o.root)) {
    throw new AppError(
      `MCP error: --agent needs a git-paw agent worktree, and ${o.root} has no agent marker. Run it inside a worktree made by git paw start / add.`,
      "mcp",
    );
  }
  const { server, inFlight } = createMcpServer({
    ctx,
    name: "git-paw",
    version: VERSION,
    agent: true,
  });
  // Messages are checked as the SDK's stdio transport checks them.
  const t = o.transport;
  const sdk: Transport = {
    start: () => t.start(),
    send: (m: unknown) => t.send(m),
    close: () => t.close(),
  };
  t.onmessage = (raw) => {
    const r = JSONRPCMessageSchema.safeParse(raw);
    if (r.success) sdk.onmessage?.(r.data);
    else sdk.onerror?.(new Error(r.error.message));
  };
  await server.connect(sdk);
  return async () => {
    await Promise.allSettled([...inFlight]);
    await new Promise((r) => setTimeout(r, 0));
    await server.close().catch(() => {});
    o.log("stdin closed; MCP server stopped");
  };
}
