/**
 * How an MCP tool is declared: a name, a description, a zod object for its
 * arguments, and a handler that returns a JSON object (sent as both
 * `structuredContent` and a JSON text block). Pure data; the server in
 * `server.ts` lists and dispatches them.
 * @module
 */
import { z } from "zod";
import type { McpContext } from "./context.ts";

/** One tool. */
export type ToolDef = {
  name: string;
  description: string;
  /** Arguments, as a zod object (also exported as JSON Schema). */
  input: z.ZodObject;
  /** Answer a call; the arguments are already validated. */
  run: (ctx: McpContext, args: Record<string, unknown>) => Promise<object>;
};

/**
 * A tool failure the caller should see as a failed call (`isError`), e.g. a
 * message the broker refused; other errors become JSON-RPC errors.
 */
export class ToolCallError extends Error {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = new.target.name;
  }
}

/** What {@link defineTool} takes besides the name. */
export type ToolSpec<S extends z.ZodRawShape> = {
  description: string;
  /** Argument fields (a zod object shape). */
  input: S;
  run: (ctx: McpContext, args: z.output<z.ZodObject<S>>) => Promise<object>;
};

/** Declare a tool with typed arguments. */
export function defineTool<S extends z.ZodRawShape>(
  name: string,
  spec: ToolSpec<S>,
): ToolDef {
  return {
    name,
    description: spec.description,
    input: z.object(spec.input),
    run: spec.run as ToolDef["run"],
  };
}

/** The JSON Schema of a tool's arguments (an `object` schema, as MCP wants). */
export function inputJsonSchema(t: ToolDef): Record<string, unknown> {
  const s = z.toJSONSchema(t.input, { io: "input" }) as Record<
    string,
    unknown
  >;
  delete s.$schema;
  return { ...s, type: "object" };
}
