/**
 * The one broker starter of the test suite (a real broker on 127.0.0.1
 * port 0 in a temp data dir), JSON request helpers, and a raw HTTP/1.1 client for requests `fetch` will not send
 * (custom Host, no Host, odd framing).
 * @module
 */
import {
  type RunningBroker,
  startBroker,
  type StartBrokerOptions,
} from "../../lib/broker/server.ts";
import { pawCommand } from "./paw_command.ts";

/** A started broker plus its temp dir; `await using` closes and removes. */
export type TestBroker = RunningBroker & {
  dir: string;
  [Symbol.asyncDispose](): Promise<void>;
};

/** Start a quiet broker on an OS-chosen port in a fresh temp dir. */
export async function testBroker(
  opts: Partial<StartBrokerOptions> & { keepDir?: boolean } = {},
): Promise<TestBroker> {
  const dir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "paw-broker-" });
  const broker = await startBroker({
    port: 0,
    session: "test",
    quiet: true,
    ...opts,
    dataDir: dir,
  });
  return Object.assign(broker, {
    dir,
    async [Symbol.asyncDispose]() {
      await broker.close();
      if (!opts.keepDir && !opts.dataDir) {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

export { tempDir } from "./repo.ts";

/** POST JSON (string or value) with `application/json`. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json: unknown }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  return { status: res.status, text, json };
}

/** GET and parse JSON. */
export async function get(
  url: string,
  headers: Record<string, string> = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return {
    status: res.status,
    json: text ? JSON.parse(text) : null,
    headers: res.headers,
  };
}

/** One raw HTTP/1.1 exchange; returns status, headers and body text. */
export async function rawRequest(
  port: number,
  head: string,
  body: Uint8Array | string = "",
  opts: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<{ status: number; head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  // Give up (close the socket) if the server neither answers nor hangs up.
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* already closed */ }
  }, opts.timeoutMs ?? 5000);
  try {
    const enc = new TextEncoder();
    const bytes = typeof body === "string" ? enc.encode(body) : body;
    const req = new Uint8Array(enc.encode(head).length + bytes.length);
    req.set(enc.encode(head));
    req.set(bytes, enc.encode(head).length);
    let off = 0;
    while (off < req.length) {
      try {
        off += await conn.write(req.subarray(off));
      } catch {
        break; // server may answer (413) and close before reading everything
      }
    }
    if (opts.halfClose) await conn.closeWrite().catch(() => {});
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        break;
      }
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      const text = new TextDecoder().decode(concat(chunks));
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const m = /content-length:\s*(\d+)/i.exec(text.slice(0, end));
        if (m && text.length - end - 4 >= Number(m[1])) break;
      }
    }
    const text = new TextDecoder().decode(concat(chunks));
    const end = text.indexOf("\r\n\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, head: text.slice(0, end), body: text.slice(end + 4) };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A valid `agent.status` for `id`. */
export function statusMsg(id: string, status = "working") {
  return { type: "agent.status", agent_id: id, payload: { status } };
}

/** A valid `agent.artifact` for `id`. */
export function artifactMsg(id: string, status = "done") {
  return {
    type: "agent.artifact",
    agent_id: id,
    payload: { status, exports: [], modified_files: [] },
  };
}

/** A `git-paw broker` process started by {@link spawnBroker}. */
export type SpawnedBroker = {
  child: Deno.ChildProcess;
  /** The first line it printed (the URL line). */
  firstLine: string;
  /** Everything printed up to the first newline. */
  stdout: string;
  /** The URL of the first line, or null. */
  url: string | null;
  /** The rest of stdout, once the process closes it. */
  rest: Promise<string>;
  /** All of stderr, once the process closes it. */
  errText: Promise<string>;
};

/**
 * Spawn `git-paw broker …args` and wait for its first stdout line. The
 * broker reads the global config (plugins): never the user's, unless `env`
 * sets `XDG_CONFIG_HOME`.
 */
export async function spawnBroker(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<SpawnedBroker> {
  const child = pawCommand(["broker", ...args], {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: {
      NO_COLOR: "1",
      XDG_CONFIG_HOME: "/nonexistent/git-paw-test-config",
      ...opts.env,
    },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const errText = (async () => {
    let s = "";
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) {
      s += c;
    }
    return s;
  })();
  const rest = (async () => {
    let s = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return s;
      s += value;
    }
  })();
  const firstLine = out.split("\n")[0]!;
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(firstLine)?.[0] ?? null;
  return { child, firstLine, stdout: out, url, rest, errText };
}
