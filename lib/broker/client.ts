/**
 * The one HTTP client of the broker: publish, inbox poll (with long-poll
 * wait), watch registration and `/status`, with the bearer token
 * (`GIT_PAW_BROKER_TOKEN`), the agent's key (`X-Git-Paw-Agent-Key`, when
 * given) and a timeout on every call. Also the one
 * description of a {@link ProbeResult} in words. Agents' helper commands
 * and git hooks load it on every call: no Hono, no zod; its one import is
 * the abortable sleep of its retries (lib/sleep.ts, no imports of its own).
 *
 * Permissions: `--allow-net` to the broker's address.
 * @module
 */
import { sleep } from "../sleep.ts";

/** Environment variable carrying the broker's URL in every pane. */
export const BROKER_URL_ENV = "GIT_PAW_BROKER_URL";
/** Environment variable carrying the bearer token (brokers bound wide). */
export const BROKER_TOKEN_ENV = "GIT_PAW_BROKER_TOKEN";

/** `X-Git-Paw-Agent-Key` (AGENT_KEY_HEADER, lib/core/agent_key.ts), lower-cased. */
const AGENT_KEY_HEADER_LC = "x-git-paw-agent-key";

/** Default timeouts (ms) per call; a poll adds its `wait`. */
const CLIENT_TIMEOUTS = {
  publish: 5000,
  watch: 2000,
  status: 500,
  /** Added to a poll's `wait`. */
  poll: 10_000,
  log: 5000,
} as const;

/**
 * How long an agent's publish keeps trying a refused connection (ms): it
 * rides over pane 0 still binding its port (the CLIs start alongside it)
 * and over a broker restart (back within about 0.5 s; 2 s is the bound
 * the heal tests hold it to), where it would otherwise go to the outbox
 * and wait for the agent's next call.
 */
export const AGENT_REFUSED_RETRY_MS = 2000;

/**
 * - `free`: nothing listens there;
 * - `ours`: a git-paw broker of the expected session and repo
 *   (reattachable);
 * - `other-session`: a git-paw broker of another session or another repo
 *   (or one that refused our token, so its session is unknown);
 * - `foreign`: some other HTTP server;
 * - `timeout`: no (or a garbled) answer in time.
 */
export type ProbeResult =
  | "free"
  | "ours"
  | "other-session"
  | "foreign"
  | "timeout";

/**
 * Who holds a port, as {@link ProbeResult} found it, in words that fit
 * "port 9119 is used by …".
 */
export function describeProbe(probe: ProbeResult): string {
  switch (probe) {
    case "free":
      return "nothing";
    case "ours":
      return "this session's broker";
    case "other-session":
      return "another git-paw session's broker";
    case "foreign":
      return "another program";
    case "timeout":
      return "a process that does not answer";
  }
}

/** The token from the environment (empty counts as none). */
export function tokenFromEnv(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): string | undefined {
  return env(BROKER_TOKEN_ENV) || undefined;
}

/** Options of {@link brokerClient}. */
export type BrokerClientOptions = {
  /** Bearer token to send (`Authorization: Bearer <token>`). */
  token?: string;
  /**
   * The agent's key, sent as `X-Git-Paw-Agent-Key` on every call (a
   * session broker wants it on agent-attributed writes).
   */
  agentKey?: string;
  /**
   * Send each call on a connection of its own (`connection: close`) over
   * a plain TCP socket instead of `fetch`, for `http:` URLs: what a
   * one-shot process (a CLI's hook, the agent helper) wants, since Deno's
   * first `fetch` costs ~30 ms of start-up and it makes one or two calls.
   * Same requests, answers and errors. Other URLs use `fetch`.
   */
  oneShot?: boolean;
};

/** Per-call options. */
export type CallOptions = {
  /** Give up after this long (ms); defaults in {@link CLIENT_TIMEOUTS}. */
  timeoutMs?: number;
  /** Abort the call (the caller is stopping). */
  signal?: AbortSignal;
  /**
   * While the connection is refused (nothing listens yet: pane 0 is still
   * binding, or restarting its broker), try again until this long (ms) has
   * passed, within the timeout. Default 0: a refusal is final at once.
   */
  refusedRetryMs?: number;
};

/**
 * Whether `e` (or anything in its `cause` chain) is a refused TCP
 * connection: the socket path's error, or `fetch`'s "fetch failed" whose
 * cause names the refusal.
 */
export function isConnectionRefused(e: unknown): boolean {
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    if (cur instanceof Deno.errors.ConnectionRefused) return true;
    const err = cur as { name?: unknown; code?: unknown; message?: unknown };
    if (err.name === "ConnectionRefused" || err.code === "ECONNREFUSED") {
      return true;
    }
    if (
      typeof err.message === "string" &&
      /connection refused|ECONNREFUSED|os error 111/i.test(err.message)
    ) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** The broker's answer: status, body text, and its `error` when JSON. */
export type BrokerReply = {
  status: number;
  ok: boolean;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
};

/** The call did not get an answer: refused, reset, timed out or aborted. */
export class BrokerUnreachableError extends Error {
  /** The timeout ran out (as opposed to a refused or reset connection). */
  readonly timedOut: boolean;
  /** The caller's signal aborted the call. */
  readonly aborted: boolean;
  constructor(
    url: string,
    opts: ErrorOptions & { timedOut: boolean; aborted: boolean },
  ) {
    super(
      opts.timedOut
        ? `Cannot reach the broker at ${url}: no answer in time`
        : `Cannot reach the broker at ${url}: ${
          (opts.cause as Error | undefined)?.message ?? "no connection"
        }`,
      opts,
    );
    this.name = new.target.name;
    this.timedOut = opts.timedOut;
    this.aborted = opts.aborted;
  }
}

/** The broker answered, but not with 2xx (or not with what was asked). */
export class BrokerReplyError extends Error {
  readonly reply: BrokerReply;
  constructor(message: string, reply: BrokerReply) {
    super(message);
    this.name = new.target.name;
    this.reply = reply;
  }
}

/** One `/messages` answer. */
export type InboxPage = {
  messages: Array<Record<string, unknown> & { seq?: number }>;
  last_seq: number;
};

/** What `POST /watch` takes. */
export type WatchRequestBody = {
  agent_id: string;
  worktree_path: string;
  cli?: string | null;
};

/** A client of one broker URL. */
export type BrokerClient = {
  /** The base URL, without a trailing `/`. */
  readonly url: string;
  /** `POST /publish` (the body is sent as given; the broker validates). */
  publish(message: unknown, opts?: CallOptions): Promise<BrokerReply>;
  /**
   * `GET /messages/:id?since=&wait=`; `wait` long-polls that many seconds.
   * @throws {BrokerReplyError} a non-2xx or malformed answer
   */
  poll(
    agentId: string,
    q: { since: number; wait?: number; limit?: number },
    opts?: CallOptions,
  ): Promise<InboxPage>;
  /** `POST /watch`. */
  watch(target: WatchRequestBody, opts?: CallOptions): Promise<BrokerReply>;
  /** `GET /status`. */
  status(opts?: CallOptions): Promise<BrokerReply>;
  /**
   * Any other route (plugin routes such as `/approvals`): `body` is sent as
   * JSON. The timeout defaults to the status one.
   */
  request(
    method: string,
    path: string,
    body?: unknown,
    opts?: CallOptions,
  ): Promise<BrokerReply>;
  /**
   * `GET /log?since=&limit=`: log entries after `since`, oldest first (as
   * sent; the caller validates the messages).
   * @throws {BrokerReplyError} a non-2xx or malformed answer
   */
  log(
    q: { since: number; limit?: number },
    opts?: CallOptions,
  ): Promise<LogPage>;
};

/** One `/log` answer. */
export type LogPage = {
  entries: Array<Record<string, unknown> & { seq?: number }>;
  last_seq: number;
};

/**
 * A client for the broker at `url`. Every call throws
 * {@link BrokerUnreachableError} when no answer comes.
 *
 * @example
 * ```ts ignore
 * const c = brokerClient("http://127.0.0.1:9119", { token: tokenFromEnv() });
 * await c.publish({ type: "agent.status", agent_id: "a", payload: { status: "x" } });
 * ```
 */
export function brokerClient(
  url: string,
  opts: BrokerClientOptions = {},
): BrokerClient {
  const base = url.trim().replace(/\/+$/, "");
  const auth = opts.token ? `Bearer ${opts.token}` : undefined;
  const agentKey = opts.agentKey || undefined;
  const viaSocket = opts.oneShot === true && base.startsWith("http:");

  async function call(
    path: string,
    init: { method: string; body?: string },
    timeoutMs: number,
    signal?: AbortSignal,
    refusedRetryMs = 0,
  ): Promise<BrokerReply> {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers["content-type"] = "application/json";
    if (auth) headers.authorization = auth;
    if (agentKey) headers[AGENT_KEY_HEADER_LC] = agentKey;
    const timeout = AbortSignal.timeout(timeoutMs);
    const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = performance.now();
    for (let wait = 25;; wait = Math.min(wait * 2, 200)) {
      try {
        return await once();
      } catch (e) {
        if (
          isConnectionRefused(e) && !all.aborted &&
          performance.now() - started + wait <= refusedRetryMs
        ) {
          await sleep(wait, all);
          if (!all.aborted) continue;
        }
        throw new BrokerUnreachableError(base, {
          cause: e,
          timedOut: timeout.aborted && !signal?.aborted,
          aborted: signal?.aborted ?? false,
        });
      }
    }

    async function once(): Promise<BrokerReply> {
      if (viaSocket) {
        const { status, text } = await socketRequest(
          `${base}${path}`,
          { method: init.method, headers, body: init.body },
          all,
        );
        return {
          status,
          ok: status >= 200 && status < 300,
          text,
          json: jsonOf(text),
        };
      }
      const res = await fetch(`${base}${path}`, {
        method: init.method,
        headers,
        body: init.body,
        signal: all,
      });
      const text = await res.text();
      return { status: res.status, ok: res.ok, text, json: jsonOf(text) };
    }
  }

  return {
    url: base,
    publish: (message, o = {}) =>
      call(
        "/publish",
        { method: "POST", body: JSON.stringify(message) },
        o.timeoutMs ?? CLIENT_TIMEOUTS.publish,
        o.signal,
        o.refusedRetryMs,
      ),
    async poll(agentId, q, o = {}) {
      const p = new URLSearchParams({ since: String(q.since) });
      const wait = q.wait ?? 0;
      if (wait > 0) p.set("wait", String(wait));
      if (q.limit !== undefined) p.set("limit", String(q.limit));
      const reply = await call(
        `/messages/${encodeURIComponent(agentId)}?${p}`,
        { method: "GET" },
        o.timeoutMs ?? wait * 1000 + CLIENT_TIMEOUTS.poll,
        o.signal,
        o.refusedRetryMs,
      );
      if (!reply.ok) {
        throw new BrokerReplyError(
          `broker at ${base} answered ${reply.status}: ${replyText(reply)}`,
          reply,
        );
      }
      const b = reply.json as { messages?: unknown; last_seq?: unknown };
      if (reply.json === undefined) {
        throw new BrokerReplyError(
          `broker at ${base} sent a reply that is not JSON`,
          reply,
        );
      }
      if (!Array.isArray(b?.messages) || typeof b.last_seq !== "number") {
        throw new BrokerReplyError(
          `broker at ${base} sent an unexpected reply to /messages`,
          reply,
        );
      }
      return { messages: b.messages, last_seq: b.last_seq };
    },
    watch: (target, o = {}) =>
      call(
        "/watch",
        { method: "POST", body: JSON.stringify(target) },
        o.timeoutMs ?? CLIENT_TIMEOUTS.watch,
        o.signal,
        o.refusedRetryMs,
      ),
    status: (o = {}) =>
      call(
        "/status",
        { method: "GET" },
        o.timeoutMs ?? CLIENT_TIMEOUTS.status,
        o.signal,
        o.refusedRetryMs,
      ),
    request: (method, path, body, o = {}) =>
      call(
        path,
        {
          method,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        },
        o.timeoutMs ?? CLIENT_TIMEOUTS.status,
        o.signal,
        o.refusedRetryMs,
      ),
    async log(q, o = {}) {
      const p = new URLSearchParams({ since: String(q.since) });
      if (q.limit !== undefined) p.set("limit", String(q.limit));
      const reply = await call(
        `/log?${p}`,
        { method: "GET" },
        o.timeoutMs ?? CLIENT_TIMEOUTS.log,
        o.signal,
        o.refusedRetryMs,
      );
      const b = reply.json as { entries?: unknown; last_seq?: unknown };
      if (!reply.ok || !Array.isArray(b?.entries)) {
        throw new BrokerReplyError(
          `broker at ${base} answered /log with ${reply.status}: ${
            replyText(reply)
          }`,
          reply,
        );
      }
      return {
        entries: b.entries as LogPage["entries"],
        last_seq: typeof b.last_seq === "number" ? b.last_seq : 0,
      };
    },
  };
}

function jsonOf(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined; // not JSON
  }
}

const MAX_REPLY_BYTES = 64 << 20;

/**
 * One HTTP/1.1 exchange on a connection of its own (`connection: close`):
 * the request line and headers `fetch` would send for `url` (`host` as
 * the URL spells it), the body, then the whole answer until the broker
 * closes (a `content-length` or chunked body). Failures read as `fetch`'s
 * do (`TypeError: fetch failed`, the cause attached; the signal's reason
 * when it aborts), so callers and their messages do not tell them apart.
 */
async function socketRequest(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  signal.throwIfAborted();
  const u = new URL(url);
  const enc = new TextEncoder();
  const body = init.body === undefined ? undefined : enc.encode(init.body);
  let head =
    `${init.method} ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\n`;
  for (const [k, v] of Object.entries(init.headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  head += "accept: */*\r\nconnection: close\r\n\r\n";
  let conn: Deno.TcpConn | undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      try {
        conn?.close();
      } catch { /* closed already */ }
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    const connecting = Deno.connect({
      hostname: u.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: u.port === "" ? 80 : Number(u.port),
    });
    connecting.then((c) => {
      if (signal.aborted) c.close();
    }, () => {});
    conn = await Promise.race([connecting, aborted]);
    const request = enc.encode(head);
    await Promise.race([writeAll(conn, request), aborted]);
    if (body !== undefined) await Promise.race([writeAll(conn, body), aborted]);
    const raw = await Promise.race([readAll(conn), aborted]);
    return parseReply(raw);
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw new TypeError("fetch failed", { cause: e });
  } finally {
    signal.removeEventListener("abort", onAbort!);
    try {
      conn?.close();
    } catch { /* closed already */ }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(bytes.subarray(off));
  }
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  let buf = new Uint8Array(16 << 10);
  let size = 0;
  for (;;) {
    if (size === buf.length) {
      if (buf.length >= MAX_REPLY_BYTES) throw new Error("reply too large");
      const next = new Uint8Array(buf.length * 2);
      next.set(buf);
      buf = next;
    }
    const n = await conn.read(buf.subarray(size));
    if (n === null) return buf.subarray(0, size);
    size += n;
  }
}

/** Status and body text of a whole HTTP/1.1 answer. */
function parseReply(raw: Uint8Array): { status: number; text: string } {
  let end = -1;
  for (let i = 0; i + 3 < raw.length; i++) {
    if (
      raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 &&
      raw[i + 3] === 10
    ) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error("incomplete HTTP answer");
  const lines = new TextDecoder().decode(raw.subarray(0, end)).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!m) throw new Error(`not an HTTP answer: ${lines[0]}`);
  const status = Number(m[1]);
  if (status < 200) throw new Error(`unexpected HTTP ${status}`);
  const fields = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    if (c > 0) {
      fields.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
    }
  }
  let body = raw.subarray(end + 4);
  if (/(^|,)\s*chunked\s*$/i.test(fields.get("transfer-encoding") ?? "")) {
    body = unchunk(body);
  } else if (fields.has("content-length")) {
    const n = Number(fields.get("content-length"));
    if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
      throw new Error("truncated HTTP answer");
    }
    body = body.subarray(0, n);
  }
  return { status, text: new TextDecoder().decode(body) };
}

function unchunk(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  let i = 0;
  const dec = new TextDecoder();
  for (;;) {
    let eol = i;
    while (
      eol + 1 < data.length && !(data[eol] === 13 && data[eol + 1] === 10)
    ) eol++;
    if (eol + 1 >= data.length) throw new Error("truncated chunked answer");
    const n = parseInt(dec.decode(data.subarray(i, eol)).split(";")[0]!, 16);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error("bad chunk size");
    if (n === 0) break;
    const start = eol + 2;
    if (start + n + 2 > data.length) {
      throw new Error("truncated chunked answer");
    }
    parts.push(data.subarray(start, start + n));
    size += n;
    i = start + n + 2;
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * A refusal in one line: the broker's `error`, then `field` and `detail`
 * when it sends them (`invalid agent_id (field agent_id: …)`), else the
 * body text or the status text.
 */
export function replyText(reply: BrokerReply): string {
  const j = reply.json as Record<string, unknown> | undefined;
  if (j && typeof j === "object" && typeof j.error === "string") {
    const extra = [
      typeof j.field === "string" ? `field ${j.field}` : "",
      typeof j.detail === "string" ? j.detail : "",
    ].filter((s) => s !== "").join(": ");
    return extra ? `${j.error} (${extra})` : j.error;
  }
  return reply.text.trim() || `HTTP ${reply.status}`;
}
