/**
 * The broker as a function: {@link createBrokerHandler} turns a store and a
 * clock into a `Request → Response` handler (docs/REFERENCE.md,
 * "Broker wire format"): `POST /publish`, `POST /watch`, `GET /messages/:agent_id`,
 * `GET /status`, `GET /log`, plugin routes. No socket: tests call it with
 * `new Request(...)`; {@link serveBroker} (server.ts) puts it on
 * `Deno.serve`.
 *
 * The two hot routes (`/publish`, `/messages/…`) are answered before the
 * Hono router with a hand-written guard (measured: bench/RESULTS.broker.md);
 * everything else goes through Hono, guarded by `hono/bearer-auth`,
 * `hono/cookie` and `hono/body-limit`. Every request first passes the Host
 * allow-list on loopback binds (DNS rebinding) and, for writes, the
 * same-origin check. Browsers cannot send a bearer header for a page or an
 * `EventSource`, so `GET /?token=<token>` sets an HttpOnly,
 * SameSite=Strict `git_paw_token` cookie and sends the browser (303) to the
 * dashboard's own path `/s/<hash of the token>/` ({@link dashboardPath}).
 * The cookie's `Path` is that prefix, so the browser never sends it to
 * another server on this host (cookies ignore ports, not paths); requests
 * under the prefix are served as if at `/`, and only there does the guard
 * accept the cookie in place of the header, on GET requests only; writes
 * and `/watch` still need the header, except the web page's
 * own writes to plugin routes (same origin, `X-Git-Paw-Csrf: 1`; never
 * `/publish` or `/watch`).
 *
 * With {@link BrokerHandlerDeps.credentials} (a session broker), a write
 * that speaks for an agent (`/publish`, `/watch`, and plugin routes that ask
 * {@link BrokerHandler.checkSpeaker}, e.g. `POST /approvals`) also needs
 * that agent's key in `X-Git-Paw-Agent-Key` (`authorsOf()` in
 * lib/core/agent_key.ts says whose): the bearer token alone is a 403, and
 * nothing is stored. Reads and the web page's own writes need no key.
 *
 * `hono/csrf` is not used: it only looks at form-like content types and
 * answers a plain-text 403, while the broker refuses every cross-origin
 * write (JSON included) with its JSON error.
 * @module
 */
import { createHash } from "node:crypto";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { getCookie, setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { parse as parseCookies } from "hono/utils/cookie";
import type {
  AgentCredentials,
  Broker,
  BrokerEvent,
  BrokerPlugin,
  PublishResult,
  SubscribeOptions,
  WatchTarget,
} from "./api.ts";
import { BrokerStore } from "./store.ts";
import {
  pollJson,
  type PublishOutcome,
  snapshot,
  storedCommitSeq,
  storedMsgSeq,
} from "../core/broker_state.ts";
import {
  type BrokerMessage,
  normaliseAgentId,
  parseMessage,
  parseWatch,
  type WireError,
} from "../core/messages.ts";
import { AppError } from "../core/errors.ts";
import { fastParseStatus } from "../core/broker_fastpath.ts";
import { AGENT_KEY_HEADER, authorsOf } from "../core/agent_key.ts";
import { SUPERVISOR_ID } from "../core/slug.ts";
import { VERSION } from "../version.ts";
import { Deadlines, TIMED_OUT } from "./deadlines.ts";

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest accepted `wait=` (seconds). */
export const MAX_WAIT_SECONDS = 60;
/** Requests being answered at once (long polls included); more get a 503. */
const MAX_OPEN_REQUESTS = 1024;
/** Long polls waiting at once; more get a 503. */
const MAX_LONG_POLLS = 256;
/** Time a client gets to send a whole request body (ms); then 408. */
const BODY_TIMEOUT_MS = 10_000;

/** Cookie that carries the bearer token for browser GETs (web dashboard). */
export const TOKEN_COOKIE = "git_paw_token";
/**
 * Header the web page sends with each write it makes with the token cookie
 * (CSRF defence; lib/coord/approvals_plugin.ts also asks it of any browser).
 */
export const PAGE_WRITE_HEADER = "x-git-paw-csrf";

/**
 * Refusal (403) for a write a browser sent without {@link PAGE_WRITE_HEADER},
 * or null. A browser says so by sending `Origin` (same-origin already
 * checked by the broker); tools like curl send none and need the bearer
 * token instead. For plugin write routes the web page uses, so a broker
 * without a token still refuses a write no page of its own made.
 */
export function pageWriteRefusal(req: Request): Response | null {
  const h = req.headers;
  if (h.get("origin") === null || h.get(PAGE_WRITE_HEADER) === "1") return null;
  return Response.json(
    { error: `a browser write needs the ${PAGE_WRITE_HEADER} header` },
    { status: 403 },
  );
}

/**
 * The path the browser dashboard lives under when a token is set:
 * `/s/<32 hex>` from a hash of the token (stable across restarts, reveals
 * nothing of the token). The token cookie is scoped to it (`Path=/s/…/`):
 * browsers send cookies to every port of a host, but only for a matching
 * path, so no other local server is sent the cookie unless it is asked for
 * this very path.
 */
export function dashboardPath(token: string): string {
  const h = createHash("sha256").update(`git-paw dashboard\n${token}`);
  return `/s/${h.digest("hex").slice(0, 32)}`;
}

/** What a bearer token may consist of (`hono/bearer-auth`'s rule, RFC 6750). */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;

/** What {@link createBrokerHandler} is built from. */
export type BrokerHandlerDeps = {
  /** The opened (and seeded) session store. */
  store: BrokerStore;
  /** Clock (Unix ms). */
  now: () => number;
  /** Session name, reported by `/status`. */
  session: string;
  /**
   * Canonical path of the repo the session belongs to, reported by
   * `/status` as `repo` (absent for a standalone broker).
   */
  repo?: string;
  /** Bearer token; when set every request needs it (or its cookie on GET). */
  token?: string;
  /**
   * Host header values accepted (lower case, with and without port); absent
   * means any Host is fine (a wide bind: the token defends).
   */
  allowedHosts?: Iterable<string>;
  /** Where a refused Host is told to go (`use <hostHint>`). */
  hostHint?: string;
  /** Plugins whose routes are mounted before the 404 fallback. */
  plugins?: BrokerPlugin[];
  /** The broker handed to plugin routes (late-bound by the server). */
  broker?: Broker;
  /**
   * After an `agent.artifact {status:"committed"}`, publish
   * `supervisor.verify-now {branch_id}` (docs/REFERENCE.md, "Delivery and
   * roster"). Default false.
   */
  verifyOnCommitNudge?: boolean;
  /** Diagnostics (request failures, subscriber errors). Default: silent. */
  warn?: (line: string) => void;
  /** Bounds on open requests and slow bodies (defaults: the constants). */
  limits?: Partial<BrokerLimits>;
  /**
   * Agent keys. When set, every agent-attributed write over HTTP
   * (`/publish`, `/watch`, plugin routes that ask {@link Broker.checkSpeaker})
   * must carry the speaker's key in `X-Git-Paw-Agent-Key`; the bearer token
   * alone is not enough (403). Absent: open, as the original broker.
   */
  credentials?: AgentCredentials;
};

/** What one broker serves at once, and how long a body may take. */
export type BrokerLimits = {
  /** {@link MAX_OPEN_REQUESTS} */
  maxOpenRequests: number;
  /** {@link MAX_LONG_POLLS} */
  maxLongPolls: number;
  /** {@link BODY_TIMEOUT_MS} */
  bodyTimeoutMs: number;
};

/** What is open right now (for `/status` readers and tests). */
export type BrokerLoad = {
  /** Requests being answered (waiting long polls included). */
  openRequests: number;
  /** Long polls waiting for a message. */
  longPolls: number;
};

/**
 * A broker handler: call it with a request. It also carries the in-process
 * side of the same state (publish, watch, subscribe) and `close()`, which
 * refuses later publishes (503) and answers pending long polls.
 */
export type BrokerHandler = {
  (req: Request): Promise<Response>;
  /** Publish an untrusted JSON value exactly as `POST /publish` would. */
  publish(input: unknown): Promise<PublishResult>;
  /** Store a watch registration and announce it when new. */
  watch(target: WatchTarget): Promise<boolean>;
  /** Listen to new entries, roster changes and watch registrations. */
  subscribe(
    fn: (ev: BrokerEvent) => void,
    opts?: SubscribeOptions,
  ): () => void;
  /** Refuse new publishes and release every long poll. */
  close(): void;
  /** Requests and long polls open right now. */
  load(): BrokerLoad;
  /** {@link Broker.checkSpeaker}. */
  checkSpeaker(req: Request, agentIds: readonly string[]): Promise<
    Response | null
  >;
};

const JSON_HEADERS = { "content-type": "application/json" };
/**
 * Message types only plugins publish (in process): an approval and its one
 * decision go through the approvals routes, which keep "decided once".
 */
const FILED_BY_PLUGINS: ReadonlySet<string> = new Set([
  "approval.request",
  "approval.decision",
]);
const encoder = new TextEncoder();
const ACCEPTED = { status: 202 };
const JSON_TYPE = /^application\/json\s*(;|$)/i;

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}
function jsonText(status: number, text: string): Response {
  return new Response(text, { status, headers: JSON_HEADERS });
}
function error(status: number, message: string, extra = {}): Response {
  return jsonResponse(status, { error: message, ...extra });
}
function tooLarge(): Response {
  return error(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
}
function busy(what: string, max: number): Response {
  return new Response(
    JSON.stringify({
      error: "broker_busy",
      detail: `more than ${max} ${what} are open; retry shortly`,
    }),
    { status: 503, headers: { ...JSON_HEADERS, "retry-after": "1" } },
  );
}
function bodyTimeout(ms: number): Response {
  return new Response(
    JSON.stringify({
      error: "request body timeout",
      detail: `the whole body must arrive within ${ms} ms`,
    }),
    { status: 408, headers: { ...JSON_HEADERS, connection: "close" } },
  );
}
function unauthorized(): Response {
  return error(401, "missing or wrong bearer token", {
    git_paw: true,
    detail: "send Authorization: Bearer <token>",
  });
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Content type and declared size checks; a 4xx response or null. */
async function checkBodyHeaders(req: Request): Promise<Response | null> {
  const h = req.headers;
  const ct = h.get("content-type");
  if (ct === null || !JSON_TYPE.test(ct)) {
    await req.body?.cancel().catch(() => {});
    return error(415, "Content-Type must be application/json");
  }
  const cl = h.get("content-length");
  if (cl !== null && Number(cl) > MAX_BODY_BYTES) {
    await req.body?.cancel().catch(() => {});
    return tooLarge();
  }
  return null;
}

type BodyResult = { ok: true; value: unknown } | { ok: false; res: Response };

function parseBody(text: string): BodyResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    if (text === "") {
      return { ok: false, res: error(400, "request body must not be empty") };
    }
    return badJson(e as SyntaxError);
  }
}

/** The refusal of a body that is not JSON (either body path). */
function badJson(e: SyntaxError): { ok: false; res: Response } {
  return { ok: false, res: error(400, `invalid message JSON: ${e.message}`) };
}

/**
 * A chunked `/publish` body (no declared length), read bounded as text and
 * parsed as JSON. Null when it exceeds {@link MAX_BODY_BYTES},
 * {@link TIMED_OUT} when it has not all arrived within the deadline. (A
 * body with a declared length is parsed by the runtime, `req.json()`, in
 * the publish handler: ~1 µs a publish cheaper than `text()` and
 * `JSON.parse`.)
 */
async function readChunkedJson(
  req: Request,
  deadlines: Deadlines,
): Promise<BodyResult | null | typeof TIMED_OUT> {
  const text = await deadlines.race(readBounded(req));
  return text === null || text === TIMED_OUT ? text : parseBody(text);
}

/**
 * The body as bytes, bounded by {@link MAX_BODY_BYTES} (null beyond), or
 * {@link TIMED_OUT} (the read is then cancelled), for requests passed on to
 * the router.
 */
async function readBodyBytes(
  req: Request,
  deadlines: Deadlines,
): Promise<Uint8Array<ArrayBuffer> | null | typeof TIMED_OUT> {
  const r = await deadlines.race(readBoundedBytes(req));
  if (r === TIMED_OUT) await req.body?.cancel().catch(() => {});
  return r;
}

async function readBounded(req: Request): Promise<string | null> {
  const bytes = await readBoundedBytes(req);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

async function readBoundedBytes(
  req: Request,
): Promise<Uint8Array<ArrayBuffer> | null> {
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

type Query = { since: number; wait: number; limit: number };

function parseQuery(
  search: string,
  allowWait: boolean,
): { ok: true; q: Query } | { ok: false; res: Response } {
  const p = new URLSearchParams(search);
  const q: Query = { since: 0, wait: 0, limit: Infinity };
  const since = p.get("since");
  if (since !== null) {
    const n = Number(since);
    if (!/^\d+$/.test(since) || !Number.isSafeInteger(n)) {
      return {
        ok: false,
        res: error(400, "since must be a non-negative integer", {
          value: since,
        }),
      };
    }
    q.since = n;
  }
  const wait = p.get("wait");
  if (wait !== null) {
    const n = Number(wait);
    if (
      !allowWait || !/^\d+(\.\d+)?$/.test(wait) || !(n <= MAX_WAIT_SECONDS)
    ) {
      return {
        ok: false,
        res: error(
          400,
          allowWait
            ? `wait must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`
            : "wait is only supported on /messages",
          { value: wait },
        ),
      };
    }
    q.wait = n;
  }
  const limit = p.get("limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!/^\d+$/.test(limit) || !Number.isSafeInteger(n) || n < 1) {
      return {
        ok: false,
        res: error(400, "limit must be a positive integer", { value: limit }),
      };
    }
    q.limit = n;
  }
  return { ok: true, q };
}

/**
 * Build the broker's request handler on an opened store. Nothing binds a
 * socket; long polls wait on the store's durability callbacks.
 *
 * @example
 * ```ts ignore
 * const handler = createBrokerHandler({ store, now: Date.now, session: "s" });
 * const res = await handler(new Request("http://127.0.0.1/status"));
 * ```
 */
export function createBrokerHandler(deps: BrokerHandlerDeps): BrokerHandler {
  const { store, now } = deps;
  const warn = deps.warn ?? (() => {});
  const token = deps.token;
  const bearer = token === undefined ? undefined : `Bearer ${token}`;
  const allowedHosts = deps.allowedHosts === undefined
    ? null
    : new Set([...deps.allowedHosts].map((h) => h.toLowerCase()));
  const startedAt = now();
  let closed = false;
  /** Where the cookie is valid (see {@link dashboardPath}). */
  const pagePrefix = token === undefined ? null : dashboardPath(token);
  /** Requests that came in under {@link pagePrefix} (the cookie counts). */
  const pageRequests = new WeakSet<Request>();
  const limits: BrokerLimits = {
    maxOpenRequests: deps.limits?.maxOpenRequests ?? MAX_OPEN_REQUESTS,
    maxLongPolls: deps.limits?.maxLongPolls ?? MAX_LONG_POLLS,
    bodyTimeoutMs: deps.limits?.bodyTimeoutMs ?? BODY_TIMEOUT_MS,
  };
  let openRequests = 0;
  let longPolls = 0;
  /** Body reads' time limits, one timer for all. */
  const bodyDeadlines = new Deadlines(limits.bodyTimeoutMs);

  /** Each subscriber with the message types it wants (null: all). */
  const subscribers = new Map<
    (ev: BrokerEvent) => void,
    ReadonlySet<string> | null
  >();
  const call = (fn: (ev: BrokerEvent) => void, ev: BrokerEvent) => {
    try {
      fn(ev);
    } catch (e) {
      warn(`warning: broker subscriber failed: ${(e as Error).message}`);
    }
  };
  const emit = (ev: BrokerEvent) => {
    for (const fn of subscribers.keys()) call(fn, ev);
  };
  /**
   * The subscribers each message type goes to, in subscription order
   * (built on first use, dropped when a subscription changes).
   */
  const byType = new Map<string, Array<(ev: BrokerEvent) => void>>();
  const takersOf = (type: string) => {
    let list = byType.get(type);
    if (list === undefined) {
      list = [];
      for (const [fn, types] of subscribers) {
        if (types === null || types.has(type)) list.push(fn);
      }
      byType.set(type, list);
    }
    return list;
  };
  /** One entry to the subscribers that want its type (one event for all). */
  const emitEntry = (o: PublishOutcome) => {
    const takers = takersOf(o.message.type);
    if (takers.length === 0) return;
    const ev: BrokerEvent = {
      kind: "entry",
      entry: {
        seq: o.entry.seq,
        timestamp_unix_secs: o.entry.timestamp_unix_secs,
        message: o.message,
      },
      json: o.entry.json,
    };
    for (let i = 0; i < takers.length; i++) {
      // One that unsubscribed while this entry went round is not told.
      if (subscribers.has(takers[i]!)) call(takers[i]!, ev);
    }
  };

  // Long-poll waiters per agent id.
  const waiters = new Map<string, Set<() => void>>();
  const wake = (id: string) => {
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const fn of set) fn();
  };
  // Each written batch, applied; a failed (503) batch is never announced.
  store.onDurable = (_top, done) => {
    if (subscribers.size === 0 && waiters.size === 0) return;
    let roster = false;
    const woken = new Set<string>();
    for (const o of done) {
      if (subscribers.size) emitEntry(o);
      if (o.rosterChanged) roster = true;
      for (const id of o.deliveredTo) woken.add(id);
    }
    if (roster) emit({ kind: "roster" });
    for (const id of woken) wake(id);
  };

  /** Store a validated message (plus the commit nudge when enabled). */
  function apply(msg: BrokerMessage): { seq: number; durable: Promise<void> } {
    // A message sent again (an outbox delivered twice), or a commit already
    // reported (hook or watcher, before a restart too).
    const known = storedMsgSeq(store.state, msg) ??
      storedCommitSeq(store.state, msg);
    if (known !== null) return { seq: known, durable: Promise.resolve() };
    const res = store.publish(msg, now());
    if (
      deps.verifyOnCommitNudge && msg.type === "agent.artifact" &&
      msg.payload.status === "committed"
    ) {
      store.publish(
        { type: "supervisor.verify-now", branch_id: msg.agent_id },
        now(),
      );
    }
    return { seq: res.outcome.entry.seq, durable: res.durable };
  }

  /** Validate one message as `/publish` does (`fromHttp`: plugin types refused). */
  function validate(
    input: unknown,
    fromHttp: boolean,
  ): { ok: false; error: WireError } | { ok: true; message: BrokerMessage } {
    // Common plain statuses skip zod (identical result, tested).
    const r = fastParseStatus(input) ?? parseMessage(input);
    if (!r.ok) return { ok: false, error: r.error };
    if (fromHttp && FILED_BY_PLUGINS.has(r.message.type)) {
      return {
        ok: false,
        error: {
          status: 400,
          body: {
            error:
              `${r.message.type} is filed through /approvals, not /publish`,
          },
        },
      };
    }
    return { ok: true, message: r.message };
  }

  /**
   * The in-process publish path: validate, then store; the caller awaits
   * `durable`. "closed" once the broker stops.
   */
  function accept(
    input: unknown,
  ):
    | { ok: false; error: WireError }
    | { ok: true; seq: number; durable: Promise<unknown> }
    | "closed" {
    const v = validate(input, false);
    if (!v.ok) return v;
    if (closed) return "closed";
    const { seq, durable } = apply(v.message);
    return { ok: true, seq, durable };
  }

  const credentials = deps.credentials;
  const keyHeader = AGENT_KEY_HEADER.toLowerCase();

  /**
   * Null when `req` may speak for one of `ids` (checked against
   * {@link BrokerHandlerDeps.credentials}), else the 403.
   */
  async function checkSpeaker(
    req: Request,
    ids: readonly string[],
  ): Promise<Response | null> {
    if (credentials === undefined || ids.length === 0) return null;
    const who = ids[0]!;
    const where = who === SUPERVISOR_ID
      ? "the supervisor's key (supervisor-key in the session's state dir)"
      : `agent '${who}'s key (its worktree's <git-dir>/paw-agent-key)`;
    const key = req.headers.get(keyHeader)?.trim() ?? "";
    if (key === "") {
      return error(403, "agent credential required", {
        agent_id: who,
        detail:
          `send ${AGENT_KEY_HEADER} with ${where}; the session token alone is not enough`,
      });
    }
    for (const id of ids) {
      if (await credentials.verify(id, key)) return null;
    }
    return error(403, "wrong agent credential", {
      agent_id: who,
      detail: `${AGENT_KEY_HEADER} does not hold ${where}`,
    });
  }

  async function publishValue(input: unknown): Promise<PublishResult> {
    const a = accept(input);
    if (a === "closed") {
      throw new AppError("Cannot publish: the broker is closed");
    }
    if (!a.ok) return a;
    await a.durable;
    return { ok: true, seq: a.seq };
  }

  async function watchTarget(target: WatchTarget): Promise<boolean> {
    const { added, durable } = store.watch(target);
    await durable;
    if (added) emit({ kind: "watch", target });
    return added;
  }

  // ---- Hot routes ----

  /**
   * The hot path, `POST /publish`, straight from {@link handler}: it
   * counts itself as an open request and turns a throw into a 500. Two
   * awaits (body, durability), nothing else async: no async layer between
   * the server and this one (each costs a promise and a microtask turn).
   */
  async function handlePublish(
    req: Request,
    counted = false,
  ): Promise<Response> {
    if (!counted) openRequests++;
    try {
      const denied = hostAndOrigin(req, true) ??
        (hotTokenOk(req) ? null : unauthorized());
      if (denied) {
        await req.body?.cancel().catch(() => {});
        return denied;
      }
      const h = req.headers;
      const ct = h.get("content-type");
      const cl = h.get("content-length");
      if (
        ct === null || (ct !== "application/json" && !JSON_TYPE.test(ct)) ||
        (cl !== null && Number(cl) > MAX_BODY_BYTES)
      ) return (await checkBodyHeaders(req))!;
      let value: unknown;
      if (cl !== null && Number(cl) !== 0) {
        try {
          value = await bodyDeadlines.race(req.json());
        } catch (e) {
          if (!(e instanceof SyntaxError)) throw e;
          return badJson(e).res;
        }
        if (value === TIMED_OUT) return bodyTimeout(limits.bodyTimeoutMs);
      } else {
        // Chunked, or a declared length of 0 ("must not be empty").
        const body = cl === null
          ? await readChunkedJson(req, bodyDeadlines)
          : parseBody("");
        if (body === null) return tooLarge();
        if (body === TIMED_OUT) return bodyTimeout(limits.bodyTimeoutMs);
        if (!body.ok) return body.res;
        value = body.value;
      }
      const v = validate(value, true);
      if (!v.ok) return jsonResponse(v.error.status, v.error.body);
      if (credentials !== undefined) {
        const denied = await checkSpeaker(req, authorsOf(v.message));
        if (denied) return denied;
      }
      if (closed) return error(503, "the broker is shutting down");
      const a = apply(v.message);
      try {
        await a.durable;
      } catch (e) {
        return error(503, `cannot store the message: ${(e as Error).message}`);
      }
      return new Response(null, ACCEPTED);
    } catch (e) {
      return internalError(e);
    } finally {
      if (!counted) openRequests--;
    }
  }

  function internalError(e: unknown): Response {
    warn(`error: broker request failed: ${(e as Error).stack ?? e}`);
    return error(500, "internal error");
  }

  function messagesBody(id: string, since: number, limit: number): string {
    const { seqs, lastSeq } = store.pollSeqs(id, since, limit);
    if (seqs.length === 0) return `{"messages":[],"last_seq":${lastSeq}}`;
    const entries = store.entries(seqs);
    let out = '{"messages":[';
    for (let i = 0; i < entries.length; i++) {
      if (i) out += ",";
      out += pollJson(entries[i]!);
    }
    return out + `],"last_seq":${lastSeq}}`;
  }

  /**
   * A poll that waits: the status and headers go out at once and the body
   * when a message arrives, the wait ends or the broker closes. The body is
   * a stream so that a client that hangs up is noticed at once (Deno
   * cancels the stream); `request.signal` is not used (under Deno 2's
   * legacy abort semantics merely reading it prints a warning).
   */
  function longPoll(
    id: string,
    since: number,
    limit: number,
    wait: number,
  ): Response {
    longPolls++;
    let finish: (() => void) | null = null;
    const body = new ReadableStream<Uint8Array>({
      start(ctrl) {
        let set = waiters.get(id);
        if (!set) waiters.set(id, set = new Set());
        const end = (answer: boolean) => {
          if (finish === null) return;
          finish = null;
          clearTimeout(timer);
          waiters.get(id)?.delete(wakeUp);
          longPolls--;
          if (!answer) return;
          ctrl.enqueue(encoder.encode(messagesBody(id, since, limit)));
          ctrl.close();
        };
        const wakeUp = () => end(true);
        finish = () => end(false);
        const timer = setTimeout(wakeUp, wait * 1000);
        set.add(wakeUp);
      },
      cancel() {
        finish?.();
      },
    });
    return new Response(body, { status: 200, headers: JSON_HEADERS });
  }

  function handleMessages(rawId: string, search: string): Response {
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawId);
    } catch {
      return error(400, "invalid agent_id", {
        value: rawId,
        detail: "agent_id is not valid percent-encoding",
      });
    }
    const id = normaliseAgentId(decoded);
    if (!id.ok) return jsonResponse(id.error.status, id.error.body);
    const pq = parseQuery(search, true);
    if (!pq.ok) return pq.res;
    const { since, wait, limit } = pq.q;
    if (wait > 0 && !closed) {
      const first = store.pollSeqs(id.id, since, 1);
      if (first.seqs.length === 0) {
        if (longPolls >= limits.maxLongPolls) {
          return busy("long polls", limits.maxLongPolls);
        }
        return longPoll(id.id, since, limit, wait);
      }
    }
    return jsonText(200, messagesBody(id.id, since, limit));
  }

  // ---- Guard shared by both paths ----

  /** Host allow-list (421) and, for writes, the same-origin rule (403). */
  function hostAndOrigin(req: Request, isWrite: boolean): Response | null {
    const h = req.headers;
    const host = h.get("host");
    if (
      allowedHosts !== null && host !== null && !allowedHosts.has(host) &&
      !allowedHosts.has(host.toLowerCase())
    ) {
      return error(421, "unexpected Host header", {
        value: host,
        detail: `use ${deps.hostHint ?? "http://127.0.0.1"}`,
      });
    }
    if (isWrite) {
      const origin = h.get("origin");
      if (
        origin !== null &&
        (host === null ||
          origin.toLowerCase() !== `http://${host.toLowerCase()}`)
      ) {
        return error(403, "cross-origin requests may not write to the broker", {
          value: origin,
        });
      }
    }
    return null;
  }

  /**
   * The token cookie of a GET under the dashboard path, when it is the
   * right one.
   */
  function cookieTokenOk(
    cookieValue: string | undefined,
    req: Request,
  ): boolean {
    return token !== undefined && req.method === "GET" &&
      pageRequests.has(req) &&
      cookieValue !== undefined && timingSafeEqual(cookieValue, token);
  }

  /**
   * A write the web page sends with the token cookie: it must carry
   * {@link PAGE_WRITE_HEADER} (a cross-site form cannot set a header, and a
   * cross-site script that sets one needs a CORS preflight the broker never
   * grants), an `Origin` (checked same-origin before this runs) and, when
   * the browser says, `Sec-Fetch-Site: same-origin`. `/watch` stays
   * header-only.
   */
  function pageWriteOk(
    req: Request,
    path: string,
    cookieValue: string | undefined,
  ): boolean {
    const h = req.headers;
    const site = h.get("sec-fetch-site");
    return token !== undefined && isWriteMethod(req.method) &&
      path !== "/watch" && cookieValue !== undefined &&
      timingSafeEqual(cookieValue, token) &&
      h.get(PAGE_WRITE_HEADER) === "1" && h.get("origin") !== null &&
      (site === null || site === "same-origin");
  }

  /** Token check of the hot routes (header, else the cookie on GET). */
  function hotTokenOk(req: Request): boolean {
    if (bearer === undefined) return true;
    const auth = req.headers.get("authorization");
    if (auth !== null && timingSafeEqual(auth, bearer)) return true;
    if (req.method !== "GET" || !req.headers.has("cookie")) return false;
    const jar = parseCookies(req.headers.get("cookie")!, TOKEN_COOKIE);
    return cookieTokenOk(jar[TOKEN_COOKIE], req);
  }

  // ---- Router for everything but the hot paths ----

  const app = new Hono();
  const isWriteMethod = (m: string) =>
    m !== "GET" && m !== "HEAD" && m !== "OPTIONS";
  app.use("*", async (c, next) => {
    const denied = hostAndOrigin(c.req.raw, isWriteMethod(c.req.method));
    if (denied) {
      await c.req.raw.body?.cancel().catch(() => {});
      return denied;
    }
    await next();
  });
  if (token !== undefined) {
    // `GET /?token=<token>`: trade a right token for the cookie and send the
    // browser to `/` (so the token leaves the address bar and history).
    app.get("/", async (c, next) => {
      const given = c.req.query("token");
      // Hono routes HEAD here too; only a GET logs in.
      if (given === undefined || c.req.method !== "GET") return await next();
      if (!timingSafeEqual(given, token)) {
        return error(401, "missing or wrong token", {
          git_paw: true,
          detail: "open /?token=<token> with the token the broker printed",
        });
      }
      // Forget a cookie an older git-paw scoped to `/` (sent to every
      // server on this host), then set the one scoped to the dashboard.
      if (
        getCookie(c, TOKEN_COOKIE) !== undefined && !pageRequests.has(c.req.raw)
      ) {
        setCookie(c, TOKEN_COOKIE, "", { path: "/", maxAge: 0 });
      }
      setCookie(c, TOKEN_COOKIE, token, {
        httpOnly: true,
        sameSite: "Strict",
        path: `${pagePrefix}/`,
      });
      c.header("cache-control", "no-store");
      c.header("referrer-policy", "no-referrer");
      return c.redirect(`${pagePrefix}/`, 303);
    });
    const refuse = () => unauthorized();
    const bearerGuard = bearerAuth({
      token,
      noAuthenticationHeader: { message: refuse },
      invalidAuthenticationHeader: { message: refuse },
      invalidToken: { message: refuse },
    });
    const guard: MiddlewareHandler = async (c, next) => {
      // Browsers cannot send `Authorization` for a page load or an
      // `EventSource`: a GET may carry the token in the cookie instead.
      // Writes (and `/watch`) keep requiring the header, except a write
      // from the web page itself (see {@link pageWriteOk}).
      const cookie = getCookie(c, TOKEN_COOKIE);
      if (
        cookieTokenOk(cookie, c.req.raw) ||
        pageWriteOk(c.req.raw, c.req.path, cookie)
      ) {
        return await next();
      }
      return await bearerGuard(c, next);
    };
    app.use("*", guard);
  }
  // Bodies the router's routes read (`/watch`, plugin writes): bounded in
  // size and time before any route sees them.
  app.use("*", async (c, next) => {
    const raw = c.req.raw;
    if (raw.body === null || !isWriteMethod(raw.method)) return await next();
    const cl = raw.headers.get("content-length");
    if (cl !== null && Number(cl) > MAX_BODY_BYTES) return await next();
    const bytes = await readBodyBytes(raw, bodyDeadlines);
    if (bytes === TIMED_OUT) return bodyTimeout(limits.bodyTimeoutMs);
    if (bytes === null) return tooLarge();
    c.req.raw = new Request(raw.url, {
      method: raw.method,
      headers: raw.headers,
      body: bytes,
    });
    await next();
  });
  app.get("/status", () =>
    jsonText(
      200,
      JSON.stringify({
        git_paw: true,
        version: VERSION,
        session: deps.session,
        ...(deps.repo === undefined ? {} : { repo: deps.repo }),
        uptime_seconds: Math.max(0, Math.floor((now() - startedAt) / 1000)),
        last_seq: store.durableSeq,
        agents: snapshot(store.state, now()),
      }),
    ));
  app.get("/log", (c) => {
    const url = c.req.url;
    const q = url.indexOf("?");
    const pq = parseQuery(q < 0 ? "" : url.slice(q), false);
    if (!pq.ok) return pq.res;
    return logResponse(pq.q.since, pq.q.limit);
  });
  app.post(
    "/watch",
    async (c, next) => {
      const bad = await checkBodyHeaders(c.req.raw);
      if (bad) return bad;
      await next();
    },
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => tooLarge() }),
    async (c) => {
      const body = parseBody(await c.req.text());
      if (!body.ok) return body.res;
      const w = parseWatch(body.value);
      if (!w.ok) return jsonResponse(w.error.status, w.error.body);
      const denied = await checkSpeaker(c.req.raw, [w.value.agent_id]);
      if (denied) return denied;
      try {
        await watchTarget({
          agent_id: w.value.agent_id,
          worktree_path: w.value.worktree_path,
          cli: w.value.cli,
        });
      } catch (e) {
        return error(503, `cannot store the watch: ${(e as Error).message}`);
      }
      return new Response(null, ACCEPTED);
    },
  );
  for (const path of ["/status", "/log", "/watch"]) {
    app.all(path, () => error(405, "method not allowed"));
  }
  if (deps.plugins?.some((p) => p.routes) && deps.broker === undefined) {
    throw new TypeError(
      "Cannot mount broker plugin routes: no broker was given",
    );
  }
  for (const p of deps.plugins ?? []) p.routes?.(app, deps.broker!);
  app.notFound(() => error(404, "not found"));
  app.onError((e) => {
    if (e instanceof HTTPException) return e.getResponse();
    warn(`error: broker request failed: ${e.stack ?? e.message}`);
    return error(500, "internal error");
  });

  function logResponse(since: number, limit: number): Response {
    const seqs = store.logSeqs(since, limit);
    const lastSeq = seqs.length ? seqs[seqs.length - 1]! : since;
    const PAGE = 2000;
    if (seqs.length <= PAGE) {
      const entries = store.entries(seqs);
      return jsonText(
        200,
        `{"entries":[${
          entries.map((e) => BrokerStore.entryJson(e)).join(",")
        }],"last_seq":${lastSeq}}`,
      );
    }
    // Large answers stream page by page so memory stays bounded.
    const encoder = new TextEncoder();
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (at >= seqs.length) {
          ctrl.enqueue(encoder.encode(`],"last_seq":${lastSeq}}`));
          ctrl.close();
          return;
        }
        const page = store.entries(seqs.slice(at, at + PAGE));
        const text = (at === 0 ? '{"entries":[' : ",") +
          page.map((e) => BrokerStore.entryJson(e)).join(",");
        at += PAGE;
        ctrl.enqueue(encoder.encode(text));
      },
    });
    return new Response(stream, { status: 200, headers: JSON_HEADERS });
  }

  /**
   * Every request. `POST /publish` goes to {@link handlePublish} before
   * anything else is allocated for it; the rest to {@link handleOther}.
   */
  function handler(req: Request): Promise<Response> {
    if (openRequests + longPolls >= limits.maxOpenRequests) {
      return refuseBusy(req);
    }
    const url = req.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    // Exactly `/publish` (no query; never under the page prefix).
    if (
      url.length === pathStart + 8 && url.endsWith("/publish") &&
      req.method === "POST"
    ) return handlePublish(req);
    return handleOther(req, url, pathStart);
  }

  async function refuseBusy(req: Request): Promise<Response> {
    await req.body?.cancel().catch(() => {});
    return busy("requests", limits.maxOpenRequests);
  }

  async function handleOther(
    req: Request,
    url: string,
    pathStart: number,
  ): Promise<Response> {
    openRequests++;
    try {
      const method = req.method;
      const qs = url.indexOf("?", pathStart);
      let path = qs < 0 ? url.slice(pathStart) : url.slice(pathStart, qs);
      if (pagePrefix !== null && path.startsWith(pagePrefix)) {
        const rest = path.slice(pagePrefix.length);
        if (rest === "") {
          await req.body?.cancel().catch(() => {});
          return new Response(null, {
            status: 308,
            headers: {
              location: `${pagePrefix}/${qs < 0 ? "" : url.slice(qs)}`,
            },
          });
        }
        if (rest.startsWith("/")) {
          // The dashboard's own requests: served as if at `/`, and the
          // scoped cookie counts for them.
          path = rest;
          // Not `new Request(url, req)`: that reads `req.signal`, which
          // makes Deno print its legacy-abort warning.
          req = new Request(
            url.slice(0, pathStart) + url.slice(pathStart + pagePrefix.length),
            { method, headers: req.headers, body: req.body },
          );
          pageRequests.add(req);
        }
      }
      // A POST to the page prefix's `/publish` (plain ones never get here).
      if (path === "/publish" && method === "POST") {
        return await handlePublish(req, true);
      }
      const hot = path === "/publish" || path.startsWith("/messages/");
      if (!hot) return await app.fetch(req);
      const denied = hostAndOrigin(req, isWriteMethod(method)) ??
        (hotTokenOk(req) ? null : unauthorized());
      if (denied) {
        await req.body?.cancel().catch(() => {});
        return denied;
      }
      if (path === "/publish") return error(405, "method not allowed");
      if (method !== "GET" && method !== "HEAD") {
        await req.body?.cancel().catch(() => {});
        return error(405, "method not allowed");
      }
      return handleMessages(path.slice(10), qs < 0 ? "" : url.slice(qs));
    } catch (e) {
      return internalError(e);
    } finally {
      openRequests--;
    }
  }

  return Object.assign(handler, {
    publish: publishValue,
    watch: (target: WatchTarget) => watchTarget({ ...target }),
    subscribe(fn: (ev: BrokerEvent) => void, opts?: SubscribeOptions) {
      subscribers.set(fn, opts?.types ? new Set(opts.types) : null);
      byType.clear();
      return () => {
        subscribers.delete(fn);
        byType.clear();
      };
    },
    close() {
      closed = true;
      bodyDeadlines.clear();
      for (const id of [...waiters.keys()]) wake(id);
    },
    load: () => ({ openRequests: openRequests + longPolls, longPolls }),
    checkSpeaker,
  });
}
