/**
 * The one HTTP client of the broker: publish, inbox poll (with long-poll
 * wait), watch registration and `/status`, with the bearer token
 * (`GIT_PAW_BROKER_TOKEN`), the agent's key (`X-Git-Paw-Agent-Key`, when
 * given) and a timeout on every call. Also the one
 * description of a {@link ProbeResult} in words. Agents' helper commands
 * and git hooks load it on every call: no Hono, no zod, no other imports.
 *
 * Permissions: `--allow-net` to the broker's address.
 * @module
 */

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
};

/** Per-call options. */
export type CallOptions = {
  /** Give up after this long (ms); defaults in {@link CLIENT_TIMEOUTS}. */
  timeoutMs?: number;
  /** Abort the call (the caller is stopping). */
  signal?: AbortSignal;
};

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

  async function call(
    path: string,
    init: { method: string; body?: string },
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<BrokerReply> {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers["content-type"] = "application/json";
    if (auth) headers.authorization = auth;
    if (agentKey) headers[AGENT_KEY_HEADER_LC] = agentKey;
    const timeout = AbortSignal.timeout(timeoutMs);
    const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await fetch(`${base}${path}`, {
        method: init.method,
        headers,
        body: init.body,
        signal: all,
      });
      const text = await res.text();
      let json: unknown = undefined;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch { /* not JSON */ }
      return { status: res.status, ok: res.ok, text, json };
    } catch (e) {
      throw new BrokerUnreachableError(base, {
        cause: e,
        timedOut: timeout.aborted && !signal?.aborted,
        aborted: signal?.aborted ?? false,
      });
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
      ),
    status: (o = {}) =>
      call(
        "/status",
        { method: "GET" },
        o.timeoutMs ?? CLIENT_TIMEOUTS.status,
        o.signal,
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
      ),
    async log(q, o = {}) {
      const p = new URLSearchParams({ since: String(q.since) });
      if (q.limit !== undefined) p.set("limit", String(q.limit));
      const reply = await call(
        `/log?${p}`,
        { method: "GET" },
        o.timeoutMs ?? CLIENT_TIMEOUTS.log,
        o.signal,
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
