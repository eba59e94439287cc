/**
 * Helpers for the MCP tests: a temp repo with specs, governance documents,
 * an ignored file and links out of it; an MCP client (the SDK's own)
 * spawning `git-paw mcp`; a private data/config home per test.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { makeRepo, sh } from "../session/git_fixture.ts";

/** Path of `main.ts`. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** A repo for the MCP tests plus private XDG homes; dispose removes all. */
export type McpRepo = AsyncDisposable & {
  /** Temp dir holding the repo, the homes and `outside.txt`. */
  path: string;
  repo: string;
  /** Environment for the server: private XDG config/data/state homes. */
  env: Record<string, string>;
  dataHome: string;
};

/**
 * `<tmp>/proj`: tracked `src/a.ts`, `docs/guide.md`, governance files, an
 * OpenSpec change, an ignored `secret.env`, an untracked `notes.txt`, a link
 * `escape` to `<tmp>/outside.txt` and a link `hidden` to `secret.env`.
 */
export async function mcpRepo(config?: string): Promise<McpRepo> {
  const r = await makeRepo();
  const repo = r.repo;
  await write(join(r.path, "outside.txt"), "outside the repo\n");
  await write(join(repo, ".gitignore"), "secret.env\n.git-paw/\n");
  await write(join(repo, "secret.env"), "TOKEN=hunter2\n");
  await write(
    join(repo, "src", "a.ts"),
    'export function parse() {\n  return "needle";\n}\n',
  );
  await write(join(repo, "docs", "guide.md"), "# Guide\nRead me.\n");
  await write(join(repo, "docs", "deep", "more.md"), "# More\n");
  await write(
    join(repo, "adr", "0001-use-deno.md"),
    "# Use Deno\n\nStatus: Accepted\n\nWe use Deno.\n",
  );
  await write(
    join(repo, "DOD.md"),
    "# Done when\n- [x] tests pass\n- [ ] docs updated\n",
  );
  const change = join(repo, "openspec", "changes", "add-search");
  await write(
    join(change, "tasks.md"),
    "---\npaw_cli: claude\n---\n## 1. Index\n- [x] 1.1 schema\n- [ ] 1.2 query\n\nFiles owned:\n- src/a.ts\n",
  );
  await write(join(change, "proposal.md"), "# Add search\nUses [[add-db]].\n");
  await write(join(change, "specs", "search", "spec.md"), "Search spec\n");
  await write(
    join(repo, "openspec", "changes", "add-db", "tasks.md"),
    "- [ ] t\n",
  );
  await write(
    join(repo, ".git-paw", "config.toml"),
    config ?? [
      "[specs]",
      'dir = "openspec/changes"',
      'type = "openspec"',
      "[governance]",
      'adr = "adr"',
      'dod = "DOD.md"',
      'docs = "docs"',
      'readme = "README.md"',
      "[mcp]",
      'name = "paw-test"',
      "",
    ].join("\n"),
  );
  await sh(repo, "add", "-A");
  await sh(repo, "commit", "-q", "-m", "fixture");
  await write(join(repo, "notes.txt"), "untracked needle\n");
  await Deno.symlink(join(r.path, "outside.txt"), join(repo, "escape"));
  await Deno.symlink(join(repo, "secret.env"), join(repo, "hidden"));
  const homes = {
    XDG_CONFIG_HOME: join(r.path, "config"),
    XDG_DATA_HOME: join(r.path, "data"),
    XDG_STATE_HOME: join(r.path, "state"),
  };
  for (const d of Object.values(homes)) {
    await Deno.mkdir(d, { recursive: true });
  }
  const deno = Deno.env.get("DENO_DIR");
  return Object.assign(r, {
    env: { NO_COLOR: "1", ...homes, ...(deno ? { DENO_DIR: deno } : {}) },
    dataHome: homes.XDG_DATA_HOME,
  });
}

/** An MCP client connected to `git-paw mcp …`; dispose closes it. */
export type McpClient = AsyncDisposable & {
  client: Client;
  /** The server's stderr so far. */
  stderr(): string;
  /**
   * Call a tool and return its structured result (throws on isError). The
   * result is loosely typed: tests assert its shape.
   */
  // deno-lint-ignore no-explicit-any
  call(name: string, args?: Record<string, unknown>): Promise<any>;
};

/** Spawn `deno run -A main.ts mcp <args>` and connect the SDK client. */
export async function mcpClient(
  args: string[],
  opts: { env: Record<string, string>; cwd?: string },
): Promise<McpClient> {
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", MAIN, "mcp", ...args],
    env: opts.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (c: Uint8Array) => {
    err += new TextDecoder().decode(c);
  });
  const client = new Client({ name: "paw-test-client", version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    stderr: () => err,
    async call(name, a = {}) {
      const r = await client.callTool({ name, arguments: a });
      if (r.isError) {
        throw new Error(
          `${name}: ${JSON.stringify(r.content)} (stderr: ${err})`,
        );
      }
      return r.structuredContent;
    },
    async [Symbol.asyncDispose]() {
      await client.close();
    },
  };
}
