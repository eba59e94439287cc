/**
 * The broker's HTTP server (docs/REFERENCE.md, "Broker wire format"): `POST /publish`,
 * `POST /watch`, `GET /messages/:agent_id`, `GET /status`, `GET /log`, on
 * `Deno.serve`, backed by the durable {@link BrokerStore}.
 *
 * The two hot routes (`/publish`, `/messages/…`) are answered before the Hono
 * router; everything else (and plugin routes) goes through Hono. Every
 * request first passes the guard: Host allow-list on loopback binds
 * (DNS rebinding), same-origin check on writes, bearer token when set.
 * Browsers cannot send a bearer header for a page or an `EventSource`, so
 * `GET /?token=<token>` sets an HttpOnly, SameSite=Strict `git_paw_token`
 * cookie (303 to `/`) that the guard accepts in place of the header on GET
 * requests only; writes and `/watch` still need the header.
 *
 * Permissions: `--allow-net` (bind address), `--allow-read`/`--allow-write`
 * on the data dir.
 * @module
 */
import { generateToken, isLoopback } from "./token.ts";
import type { EarlyServer } from "./early_listen.ts";
import { Hono } from "hono";
import type {
  AgentStatusEntry,
  Broker,
  BrokerEvent,
  BrokerPlugin,
  LogEntry,
  PublishResult,
  WatchTarget,
} from "./api.ts";
import { BrokerStore, openStore } from "./store.ts";
import {
  pollJson,
  type PublishOutcome,
  snapshot,
  storedCommitSeq,
  type StoredEntry,
  watchTargets,
} from "../core/broker_state.ts";
import {
  type BrokerMessage,
  normaliseAgentId,
  parseMessage,
  parseWatch,
} from "../core/messages.ts";
import { AppError } from "../core/errors.ts";
import { fastParseStatus } from "../core/broker_fastpath.ts";
import { VERSION } from "../version.ts";
import { probeBroker, type ProbeResult } from "./probe.ts";

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest accepted `wait=` (seconds). */
export const MAX_WAIT_SECONDS = 60;

/** Options for {@link startBroker}. */
export type StartBrokerOptions = {
  /** TCP port; 0 lets the OS pick. */
  port: number;
  /** Bind address. Default `127.0.0.1`. */
  bind?: string;
  /** Where `<session>.jsonl` and `<session>.broker.log` live. */
  dataDir: string;
  /** Session name, reported by `/status` and used in file names. */
  session: string;
  /** Bearer token; required (generated if absent) beyond loopback. */
  token?: string;
  plugins?: BrokerPlugin[];
  /** Agents known at launch: CLI map + inbox (+ watch when a path is set). */
  seed?: WatchTarget[];
  /**
   * After an `agent.artifact {status:"committed"}`, publish
   * `supervisor.verify-now {branch_id}` (docs/REFERENCE.md, "Delivery and roster";
   * `[supervisor] verify_on_commit_nudge`). Default false.
   */
  verifyOnCommitNudge?: boolean;
  /** Committed → working re-entry window. Default 60. */
  republishWorkingTtlSeconds?: number;
  /** Clock (Unix ms). Default `Date.now`. */
  now?: () => number;
  /** No diagnostics on stderr. */
  quiet?: boolean;
  /** Bytes of the log's tail kept in memory. Default 4 MiB. */
  windowBytes?: number;
  /**
   * Serve on this already-bound server ({@link listenEarly}) instead of
   * binding `bind:port`; requests it held are answered once the broker is up.
   */
  early?: EarlyServer;
};

/** A running broker as returned by {@link startBroker}. */
export type RunningBroker = Broker & {
  /** The bearer token in force, if any (generated when binding wide). */
  readonly token: string | undefined;
  /** Path of the JSONL log. */
  readonly logPath: string;
  /** Path of the human-readable log. */
  readonly humanLogPath: string;
};

/** The port is held by something we must not reattach to (or by us). */
export class BrokerPortError extends AppError {
  readonly probe: ProbeResult;
  readonly url: string;
  constructor(message: string, probe: ProbeResult, url: string) {
    super(message, `broker_port_${probe.replace("-", "_")}`);
    this.probe = probe;
    this.url = url;
  }
}

export { isLoopback };

function hostPart(bind: string): string {
  const b = bind.replace(/^\[|\]$/g, "");
  return b.includes(":") ? `[${b}]` : b;
}

const JSON_HEADERS = { "content-type": "application/json" };
const ACCEPTED = { status: 202 };

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}
function jsonText(status: number, text: string): Response {
  return new Response(text, { status, headers: JSON_HEADERS });
}
function error(status: number, message: string, extra = {}): Response {
  return jsonResponse(status, { error: message, ...extra });
}

/** Cookie that carries the bearer token for browser GETs (web dashboard). */
export const TOKEN_COOKIE = "git_paw_token";

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

type BodyResult = { ok: true; value: unknown } | { ok: false; res: Response };

const JSON_TYPE = /^application\/json\s*(;|$)/i;

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

/** The body text within the size limit, or null when it is too large. */
function bodyText(req: Request): Promise<string | null> {
  // A declared length bounds what the server reads; otherwise count.
  return req.headers.get("content-length") !== null
    ? req.text()
    : readBounded(req);
}

function parseBody(text: string): BodyResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    if (/^\s*$/.test(text)) {
      return { ok: false, res: error(400, "request body must not be empty") };
    }
    return {
      ok: false,
      res: error(400, `invalid message JSON: ${(e as Error).message}`),
    };
  }
}

/** Read a JSON body: content type, size limit (while reading), emptiness. */
async function readJsonBody(req: Request): Promise<BodyResult> {
  const bad = await checkBodyHeaders(req);
  if (bad) return { ok: false, res: bad };
  const text = await bodyText(req);
  if (text === null) return { ok: false, res: tooLarge() };
  return parseBody(text);
}

function tooLarge(): Response {
  return error(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
}

async function readBounded(req: Request): Promise<string | null> {
  if (!req.body) return "";
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
  return new TextDecoder().decode(all);
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
 * Start a broker: open and replay the session log, seed agents, listen, start
 * plugins.
 *
 * @throws {BrokerPortError} when the port is held by this session's broker
 *   (`probe === "ours"`: reattach to `url`), another session's broker, a
 *   foreign server, or a stuck listener.
 */
export async function startBroker(
  opts: StartBrokerOptions,
): Promise<RunningBroker> {
  const bind = opts.bind ?? "127.0.0.1";
  const now = opts.now ?? Date.now;
  const quiet = opts.quiet ?? false;
  const warn = (l: string) => {
    if (!quiet) console.error(l);
  };
  const loopback = isLoopback(bind);
  const token = opts.token ?? (loopback ? undefined : generateToken());
  if (token !== undefined && token.trim() === "") {
    throw new AppError("Cannot start the broker: --token must not be blank");
  }

  let store: BrokerStore;
  try {
    store = await openStore({
      dataDir: opts.dataDir,
      session: opts.session,
      windowBytes: opts.windowBytes,
      republishWorkingTtlSeconds: opts.republishWorkingTtlSeconds,
      warn,
    });
  } catch (e) {
    // The session's log is busy: if that is our own broker on this very
    // port, say so the way a busy port does (callers reattach on "ours").
    if (opts.port !== 0 && /another broker/.test((e as Error).message)) {
      const busy = await portError(bind, opts.port, opts.session, token);
      if (busy.probe === "ours") throw busy;
    }
    throw new AppError((e as Error).message, "broker_log_busy", { cause: e });
  }
  const subscribers = new Set<(ev: BrokerEvent) => void>();
  const emit = (ev: BrokerEvent) => {
    for (const fn of subscribers) {
      try {
        fn(ev);
      } catch (e) {
        warn(`warning: broker subscriber failed: ${(e as Error).message}`);
      }
    }
  };
  for (const t of opts.seed ?? []) {
    const id = normaliseAgentId(t.agent_id);
    if (!id.ok) {
      await store.close();
      throw new AppError(
        `Cannot seed broker agent "${t.agent_id}": ${id.error.body.detail}`,
      );
    }
    store.seed(id.id, t.cli);
    if (t.worktree_path.trim() !== "") {
      store.watch({ ...t, agent_id: id.id });
    }
  }
  await store.flush();

  // Long-poll waiters per agent id.
  const waiters = new Map<string, Set<() => void>>();
  const wake = (id: string) => {
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const fn of set) fn();
  };
  // Outcomes waiting for their batch to reach the OS.
  const pending: PublishOutcome[] = [];
  store.onDurable = (top) => {
    // Batches complete in order; take the outcomes this batch made durable.
    let n = 0;
    while (n < pending.length && pending[n]!.entry.seq <= top) n++;
    if (n === 0) return;
    const done = pending.splice(0, n);
    if (subscribers.size === 0 && waiters.size === 0) return;
    let roster = false;
    const woken = new Set<string>();
    for (const o of done) {
      if (subscribers.size) {
        emit({
          kind: "entry",
          entry: {
            seq: o.entry.seq,
            timestamp_unix_secs: o.entry.timestamp_unix_secs,
            message: o.message,
          },
        });
      }
      if (o.rosterChanged) roster = true;
      for (const id of o.deliveredTo) woken.add(id);
    }
    if (roster) emit({ kind: "roster" });
    for (const id of woken) wake(id);
  };

  const startedAt = now();
  let closed = false;

  /** Store a validated message (plus the commit nudge when enabled). */
  function apply(msg: BrokerMessage): { seq: number; durable: Promise<void> } {
    // A commit already reported (hook or watcher, before a restart too).
    const known = storedCommitSeq(store.state, msg);
    if (known !== null) return { seq: known, durable: Promise.resolve() };
    const res = store.publish(msg, now());
    pending.push(res.outcome);
    if (
      opts.verifyOnCommitNudge && msg.type === "agent.artifact" &&
      msg.payload.status === "committed"
    ) {
      const nudge = store.publish(
        { type: "supervisor.verify-now", branch_id: msg.agent_id },
        now(),
      );
      pending.push(nudge.outcome);
    }
    return { seq: res.outcome.entry.seq, durable: res.durable };
  }

  async function publishValue(input: unknown): Promise<PublishResult> {
    // Common plain statuses skip zod (identical result, tested); the rest
    // goes through the schemas.
    const r = fastParseStatus(input) ?? parseMessage(input);
    if (!r.ok) return { ok: false, error: r.error };
    if (closed) {
      throw new AppError("Cannot publish: the broker is closed");
    }
    const { seq, durable } = apply(r.message);
    await durable;
    return { ok: true, seq };
  }

  // ---- Handlers ----

  /** The hot path: two awaits (body, durability), nothing else async. */
  async function handlePublish(req: Request): Promise<Response> {
    const h = req.headers;
    const ct = h.get("content-type");
    const cl = h.get("content-length");
    if (
      ct === null || !JSON_TYPE.test(ct) ||
      (cl !== null && Number(cl) > MAX_BODY_BYTES)
    ) return (await checkBodyHeaders(req))!;
    const text = cl !== null ? await req.text() : await readBounded(req);
    if (text === null) return tooLarge();
    const body = parseBody(text);
    if (!body.ok) return body.res;
    // Common plain statuses skip zod (identical result, tested); the rest
    // goes through the schemas.
    const r = fastParseStatus(body.value) ?? parseMessage(body.value);
    if (!r.ok) return jsonResponse(r.error.status, r.error.body);
    if (closed) return error(503, "the broker is shutting down");
    const { durable } = apply(r.message);
    try {
      await durable;
    } catch (e) {
      return error(503, `cannot store the message: ${(e as Error).message}`);
    }
    return new Response(null, ACCEPTED);
  }

  async function handleWatch(req: Request): Promise<Response> {
    const body = await readJsonBody(req);
    if (!body.ok) return body.res;
    const w = parseWatch(body.value);
    if (!w.ok) return jsonResponse(w.error.status, w.error.body);
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
  }

  /** Store a watch registration and announce it when new. */
  async function watchTarget(target: WatchTarget): Promise<boolean> {
    const { added, durable } = store.watch(target);
    await durable;
    if (added) emit({ kind: "watch", target });
    return added;
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

  async function handleMessages(
    rawId: string,
    search: string,
  ): Promise<Response> {
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
        await new Promise<void>((resolve) => {
          let set = waiters.get(id.id);
          if (!set) waiters.set(id.id, set = new Set());
          const done = () => {
            clearTimeout(timer);
            waiters.get(id.id)?.delete(done);
            resolve();
          };
          const timer = setTimeout(done, wait * 1000);
          // A client that hangs up is let go by the timer (≤ 60 s).
          set.add(done);
        });
      }
    }
    return jsonText(200, messagesBody(id.id, since, limit));
  }

  function statusBody(): string {
    return JSON.stringify({
      git_paw: true,
      version: VERSION,
      session: opts.session,
      uptime_seconds: Math.max(0, Math.floor((now() - startedAt) / 1000)),
      last_seq: store.durableSeq,
      agents: snapshot(store.state, now()),
    });
  }

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

  // ---- Router for everything but the hot paths ----

  const app = new Hono();
  app.get("/status", () => jsonText(200, statusBody()));
  app.get("/log", (c) => {
    const url = c.req.url;
    const q = url.indexOf("?");
    const pq = parseQuery(q < 0 ? "" : url.slice(q), false);
    if (!pq.ok) return pq.res;
    return logResponse(pq.q.since, pq.q.limit);
  });
  app.post("/watch", (c) => handleWatch(c.req.raw));
  for (const path of ["/status", "/log", "/watch"]) {
    app.all(path, () => error(405, "method not allowed"));
  }

  for (const p of opts.plugins ?? []) p.routes?.(app, proxyBroker());
  app.notFound(() => error(404, "not found"));
  app.onError((e) => {
    warn(`error: broker request failed: ${e.stack ?? e.message}`);
    return error(500, "internal error");
  });

  // ---- Guard ----

  let port = 0;
  let allowedHosts = new Set<string>();
  const hostCheck = loopback;
  const bearer = token === undefined ? undefined : `Bearer ${token}`;

  /**
   * Browsers cannot send `Authorization` for a page load or an
   * `EventSource`, so a GET may carry the token in the `git_paw_token`
   * cookie instead (set by `GET /?token=`). Only GET: writes and `/watch`
   * keep requiring the header, which also shuts out cross-site forgery.
   */
  function cookieTokenOk(req: Request): boolean {
    if (token === undefined || req.method !== "GET") return false;
    const cookies = req.headers.get("cookie");
    if (cookies === null) return false;
    for (const part of cookies.split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0 || part.slice(0, eq).trim() !== TOKEN_COOKIE) continue;
      let value: string;
      try {
        value = decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        continue;
      }
      if (timingSafeEqual(value, token)) return true;
    }
    return false;
  }

  /**
   * `GET /?token=<token>`: trade a right token for the cookie and send the
   * browser to `/` (so the token leaves the address bar and history).
   */
  function tokenLogin(given: string): Response {
    if (token === undefined || !timingSafeEqual(given, token)) {
      return error(401, "missing or wrong token", {
        git_paw: true,
        detail: "open /?token=<token> with the token the broker printed",
      });
    }
    return new Response(null, {
      status: 303,
      headers: {
        location: "/",
        "set-cookie": `${TOKEN_COOKIE}=${
          encodeURIComponent(token)
        }; HttpOnly; SameSite=Strict; Path=/`,
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
      },
    });
  }

  function guard(
    req: Request,
    isWrite: boolean,
    tokenCheck = true,
  ): Response | null {
    const h = req.headers;
    const host = h.get("host");
    if (hostCheck && host !== null && !allowedHosts.has(host.toLowerCase())) {
      return error(421, "unexpected Host header", {
        value: host,
        detail: `use http://127.0.0.1:${port}`,
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
    if (bearer !== undefined && tokenCheck) {
      const auth = h.get("authorization");
      if (
        (auth === null || !timingSafeEqual(auth, bearer)) && !cookieTokenOk(req)
      ) {
        return error(401, "missing or wrong bearer token", {
          git_paw: true,
          detail: "send Authorization: Bearer <token>",
        });
      }
    }
    return null;
  }

  async function handler(req: Request): Promise<Response> {
    try {
      const method = req.method;
      const url = req.url;
      const pathStart = url.indexOf("/", url.indexOf("//") + 2);
      const qs = url.indexOf("?", pathStart);
      const path = qs < 0 ? url.slice(pathStart) : url.slice(pathStart, qs);
      const isWrite = method !== "GET" && method !== "HEAD" &&
        method !== "OPTIONS";
      const login = bearer !== undefined && method === "GET" &&
          path === "/" && qs >= 0
        ? new URLSearchParams(url.slice(qs + 1)).get("token")
        : null;
      // A `/?token=` login is still subject to the Host check.
      const denied = guard(req, isWrite, login === null);
      if (denied) {
        await req.body?.cancel().catch(() => {});
        return denied;
      }
      if (login !== null) return tokenLogin(login);
      if (path === "/publish") {
        if (method === "POST") return await handlePublish(req);
        return error(405, "method not allowed");
      }
      if (path.startsWith("/messages/")) {
        if (method !== "GET" && method !== "HEAD") {
          await req.body?.cancel().catch(() => {});
          return error(405, "method not allowed");
        }
        return await handleMessages(
          path.slice(10),
          qs < 0 ? "" : url.slice(qs),
        );
      }
      return await app.fetch(req);
    } catch (e) {
      warn(`error: broker request failed: ${(e as Error).stack ?? e}`);
      return error(500, "internal error");
    }
  }

  // ---- Listen ----

  const displayHost = hostPart(bind);
  let server: Deno.HttpServer;
  const onError = (e: unknown) => {
    warn(`error: broker request failed: ${(e as Error).message}`);
    return error(500, "internal error");
  };
  try {
    if (opts.early) {
      opts.early.attach(handler, onError);
      server = opts.early.server;
    } else {
      // Deno.serve binds synchronously: a busy port throws here.
      server = Deno.serve({
        port: opts.port,
        hostname: bind,
        onListen: () => {},
        onError,
      }, handler);
    }
  } catch (e) {
    await store.close();
    if (e instanceof Deno.errors.AddrInUse) {
      throw await portError(bind, opts.port, opts.session, token);
    }
    throw new AppError(
      `Cannot start the broker on ${displayHost}:${opts.port}: ${
        (e as Error).message
      }`,
      "broker_bind_failed",
      { cause: e },
    );
  }
  port = (server.addr as Deno.NetAddr).port;
  const names = new Set(["127.0.0.1", "localhost", "[::1]", displayHost]);
  allowedHosts = new Set(
    [...names].flatMap((n) => [n, `${n}:${port}`].map((x) => x.toLowerCase())),
  );
  const url = `http://${displayHost}:${port}`;

  const disposers: Array<() => Promise<void>> = [];

  function toLogEntry(e: StoredEntry): LogEntry {
    return {
      seq: e.seq,
      timestamp_unix_secs: e.timestamp_unix_secs,
      message: e.message,
    };
  }

  let closing: Promise<void> | null = null;
  const broker: RunningBroker = {
    url,
    port,
    session: opts.session,
    token,
    logPath: store.logPath,
    humanLogPath: store.humanPath,
    publish: publishValue,
    lastSeq: () => store.durableSeq,
    logSince(since: number, limit?: number): Promise<LogEntry[]> {
      return Promise.resolve(
        store.entries(store.logSeqs(since, limit ?? Infinity)).map(toLogEntry),
      );
    },
    agents: (): AgentStatusEntry[] => snapshot(store.state, now()),
    watchTargets: (): WatchTarget[] => watchTargets(store.state),
    watch: (target: WatchTarget) => watchTarget({ ...target }),
    subscribe(fn) {
      subscribers.add(fn);
      return () => subscribers.delete(fn);
    },
    close() {
      closing ??= (async () => {
        // Plugins stop first and may still publish (final learnings flush).
        for (const d of disposers.reverse()) {
          try {
            await d();
          } catch (e) {
            warn(`warning: broker plugin stop failed: ${(e as Error).message}`);
          }
        }
        closed = true;
        // Release long polls first so they answer before the socket closes.
        for (const id of [...waiters.keys()]) wake(id);
        await new Promise((r) => setTimeout(r, 0));
        await server.shutdown();
        await store.close();
        subscribers.clear();
      })();
      return closing;
    },
  };

  function proxyBroker(): Broker {
    // Plugins mount routes before `broker` exists; they get a late-bound view.
    return new Proxy({} as Broker, {
      get: (_t, key) => {
        const v = (broker as unknown as Record<PropertyKey, unknown>)[key];
        return typeof v === "function" ? v.bind(broker) : v;
      },
    });
  }

  for (const p of opts.plugins ?? []) {
    if (!p.start) continue;
    try {
      disposers.push(await p.start(broker));
    } catch (e) {
      await broker.close();
      throw new AppError(
        `Cannot start broker plugin ${p.name}: ${(e as Error).message}`,
        "broker_plugin_failed",
        { cause: e },
      );
    }
  }
  return broker;
}

async function portError(
  bind: string,
  port: number,
  session: string,
  token?: string,
): Promise<BrokerPortError> {
  const url = `http://${
    hostPart(bind === "0.0.0.0" ? "127.0.0.1" : bind)
  }:${port}`;
  const probe = await probeBroker(url, session, { token });
  switch (probe) {
    case "ours":
      return new BrokerPortError(
        `a broker for session "${session}" is already running at ${url} — use it, or stop it first`,
        probe,
        url,
      );
    case "other-session":
      return new BrokerPortError(
        `port ${port} is used by another git-paw session's broker — pick another port (--port N, or --port 0 for a free one)`,
        probe,
        url,
      );
    case "timeout":
      return new BrokerPortError(
        `broker probe timed out on port ${port} — check for stuck processes on this port, or pick another (--port 0)`,
        probe,
        url,
      );
    default:
      return new BrokerPortError(
        `port ${port} is already in use by another process — pick another port (--port N, or --port 0 for a free one)`,
        probe,
        url,
      );
  }
}
