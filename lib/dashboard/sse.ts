/**
 * Server-sent events for the live web dashboard (`GET /events`).
 *
 * Wire format (one event per broker change, in publish order):
 * - `event: hello` / `data: {"session","last_seq"}` first on every
 *   connection, so a page notices it reconnected to another session.
 * - `event: entry` / `id: <seq>` / `data: <LogEntry JSON>` for each new log
 *   entry, with one more field, `line`: the entry's row text as every
 *   dashboard shows it ({@link messageLine}). The `id` lets the browser's `EventSource` resume after a drop: it
 *   reconnects with `Last-Event-ID`, and the entries it missed are replayed
 *   from the broker log (disk included) before live ones, with no gap and no
 *   duplicate.
 * - `event: roster` / `data: <agents array as in /status>` when the roster
 *   changes (bursts are coalesced into one snapshot), and once on connect.
 * - `event: view` / `data: <DashboardView JSON>` (agent rows with their
 *   summaries and ages, counts, attention items) on connect and whenever it
 *   changes, when the hub was given a {@link SseViewSource}.
 * - `event: reset` when the client's cursor is ahead of the broker's last
 *   seq (the log was replaced): the client drops its state; entries follow
 *   from seq 1.
 * - `: ping` comment lines as a heartbeat (default every 15 s), so proxies and
 *   the browser notice a dead connection.
 *
 * One {@link SseHub} per broker holds one broker subscription for all its
 * clients (taken when the first client connects, dropped when the last one
 * leaves) and encodes each event once. A client whose queue grows past
 * `maxQueued` chunks (it stopped reading) is disconnected; its `EventSource`
 * reconnects and catches up from the log.
 * @module
 */
import type { AgentStatusEntry, Broker, LogEntry } from "../broker/api.ts";
import { messageLine } from "../core/dashboard_summary.ts";

/** Where `view` events come from (the web dashboard's {@link WebView}). */
export type SseViewSource = {
  snapshot(): unknown;
  onChange(fn: () => void): () => void;
};

/** Options for {@link SseHub}. */
export type SseHubOptions = {
  /** Heartbeat comment interval (ms). Default 15 000. */
  heartbeatMs?: number;
  /** `retry:` reconnect delay sent to browsers (ms). Default 2 000. */
  retryMs?: number;
  /** Disconnect a client with more queued chunks than this. Default 2 000. */
  maxQueued?: number;
  /** Page size when replaying missed entries from the log. Default 500. */
  replayPageSize?: number;
  /** Session named in `hello` (default: the broker's). */
  session?: string;
  /** Send `view` events from this source. */
  view?: SseViewSource;
};

/** One SSE event to encode. */
export type SseEvent = {
  event?: string;
  id?: string | number;
  data?: string;
  /** A comment line (`: text`), ignored by clients. */
  comment?: string;
  /** `retry:` field (ms). */
  retry?: number;
};

const enc = new TextEncoder();

/**
 * Encode one SSE event. Multi-line data becomes several `data:` lines; CR/LF
 * in `event`, `id` and comments are replaced by spaces so a value can never
 * start a new field.
 */
export function formatSseEvent(ev: SseEvent): string {
  const oneLine = (s: string) => s.replace(/\r\n|\r|\n/g, " ");
  let out = "";
  if (ev.comment !== undefined) out += `: ${oneLine(ev.comment)}\n`;
  if (ev.retry !== undefined) out += `retry: ${Math.max(0, ev.retry | 0)}\n`;
  if (ev.event !== undefined) out += `event: ${oneLine(ev.event)}\n`;
  if (ev.id !== undefined) out += `id: ${oneLine(String(ev.id))}\n`;
  if (ev.data !== undefined) {
    for (const line of ev.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  }
  return out + "\n";
}

/** The SSE frame for one log entry, with its row text. */
function entryEvent(entry: LogEntry): string {
  return formatSseEvent({
    event: "entry",
    id: entry.seq,
    data: JSON.stringify({ ...entry, line: messageLine(entry) }),
  });
}

/** The SSE frame for a view snapshot. */
function viewEvent(view: unknown): string {
  return formatSseEvent({ event: "view", data: JSON.stringify(view) });
}

/** The SSE frame for a roster snapshot. */
function rosterEvent(agents: AgentStatusEntry[]): string {
  return formatSseEvent({ event: "roster", data: JSON.stringify(agents) });
}

/**
 * Where a new client starts: `Last-Event-ID` (set by a reconnecting
 * `EventSource`) wins over `?since=N`; neither means "live only".
 * Returns `{ok:false}` for a value that is not a non-negative integer.
 */
export function resumeCursor(
  req: Request,
): { ok: true; since: number | null } | { ok: false; error: string } {
  const header = req.headers.get("last-event-id");
  const query = new URL(req.url).searchParams.get("since");
  const raw = header !== null && header.trim() !== "" ? header : query;
  if (raw === null || raw.trim() === "") return { ok: true, since: null };
  const t = raw.trim();
  if (!/^\d{1,15}$/.test(t)) {
    return {
      ok: false,
      error: header !== null && header.trim() !== ""
        ? "Last-Event-ID must be a non-negative integer"
        : "since must be a non-negative integer",
    };
  }
  return { ok: true, since: Number(t) };
}

type Client = {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Highest seq sent (or skipped as already known). */
  sent: number;
  /** Live entries that arrived while the backlog was being replayed. */
  pending: LogEntry[] | null;
  closed: boolean;
  close: () => void;
};

/** Fans broker events out to SSE clients. */
export class SseHub {
  readonly #broker: Broker;
  readonly #heartbeatMs: number;
  readonly #retryMs: number;
  readonly #maxQueued: number;
  readonly #pageSize: number;
  readonly #session: string | undefined;
  readonly #view: SseViewSource | undefined;
  #unwatchView: (() => void) | null = null;
  readonly #clients = new Set<Client>();
  #unsubscribe: (() => void) | null = null;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #rosterScheduled = false;
  #closed = false;

  constructor(broker: Broker, opts: SseHubOptions = {}) {
    this.#broker = broker;
    this.#heartbeatMs = opts.heartbeatMs ?? 15_000;
    this.#retryMs = opts.retryMs ?? 2_000;
    this.#maxQueued = opts.maxQueued ?? 2_000;
    this.#pageSize = opts.replayPageSize ?? 500;
    this.#session = opts.session;
    this.#view = opts.view;
  }

  /** Number of connected clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Answer one `GET /events` request with an event stream (or a 400 for a
   * bad cursor, 503 once the hub is closed). The caller does the Host/Origin
   * checks.
   */
  handle(req: Request): Response {
    if (this.#closed) {
      return Response.json({ error: "broker is shutting down" }, {
        status: 503,
      });
    }
    const cursor = resumeCursor(req);
    if (!cursor.ok) {
      return Response.json({ error: cursor.error }, { status: 400 });
    }
    let client: Client | null = null;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = this.#attach(controller, cursor.since);
      },
      // Deno cancels the body when the client disconnects.
      cancel: () => client?.close(),
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
        "x-content-type-options": "nosniff",
      },
    });
  }

  /** Disconnect every client and refuse new ones. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#clients]) c.close();
    this.#release();
  }

  #attach(
    controller: ReadableStreamDefaultController<Uint8Array>,
    since: number | null,
  ): Client {
    let reset = false;
    if (since !== null && since > this.#broker.lastSeq()) {
      // The cursor is ahead of this broker (a different or rebuilt log):
      // tell the page to forget what it has and replay from the start.
      reset = true;
      since = 0;
    }
    const client: Client = {
      controller,
      sent: since ?? this.#broker.lastSeq(),
      pending: since !== null && since < this.#broker.lastSeq() ? [] : null,
      closed: false,
      close: () => {
        if (client.closed) return;
        client.closed = true;
        this.#clients.delete(client);
        try {
          controller.close();
        } catch { /* already closed or errored */ }
        if (this.#clients.size === 0) this.#release();
      },
    };
    this.#clients.add(client);
    this.#acquire();
    this.#send(
      client,
      enc.encode(
        formatSseEvent({ retry: this.#retryMs, comment: "git-paw events" }) +
          formatSseEvent({
            event: "hello",
            data: JSON.stringify({
              session: this.#session ?? this.#broker.session,
              last_seq: this.#broker.lastSeq(),
            }),
          }) +
          (reset ? formatSseEvent({ event: "reset", data: "{}" }) : "") +
          rosterEvent(this.#broker.agents()) +
          (this.#view ? viewEvent(this.#view.snapshot()) : ""),
      ),
    );
    if (client.pending) void this.#replay(client);
    return client;
  }

  async #replay(client: Client): Promise<void> {
    try {
      while (!client.closed) {
        const page = await this.#broker.logSince(client.sent, this.#pageSize);
        if (client.closed) return;
        if (page.length === 0) break;
        const fresh = page.filter((e) => e.seq > client.sent);
        if (fresh.length === 0) break;
        this.#send(client, enc.encode(fresh.map(entryEvent).join("")));
        client.sent = fresh[fresh.length - 1]!.seq;
      }
      const pending = client.pending ?? [];
      client.pending = null;
      const rest = pending.filter((e) => e.seq > client.sent);
      if (rest.length > 0 && !client.closed) {
        this.#send(client, enc.encode(rest.map(entryEvent).join("")));
        client.sent = rest[rest.length - 1]!.seq;
      }
    } catch {
      // The log could not be read: drop the client; it reconnects and retries.
      client.close();
    }
  }

  #acquire(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#broker.subscribe((ev) => {
      if (ev.kind === "entry") this.#broadcastEntry(ev.entry);
      else if (ev.kind === "roster") this.#scheduleRoster();
    });
    this.#unwatchView = this.#view?.onChange(() => {
      if (this.#clients.size === 0) return;
      const bytes = enc.encode(viewEvent(this.#view!.snapshot()));
      for (const c of [...this.#clients]) this.#send(c, bytes);
    }) ?? null;
    this.#heartbeat = setInterval(() => {
      const ping = enc.encode(formatSseEvent({ comment: "ping" }));
      for (const c of [...this.#clients]) this.#send(c, ping);
    }, this.#heartbeatMs);
  }

  #release(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#unwatchView?.();
    this.#unwatchView = null;
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }

  #broadcastEntry(entry: LogEntry): void {
    if (this.#clients.size === 0) return;
    let bytes: Uint8Array | null = null;
    for (const c of [...this.#clients]) {
      if (c.pending) {
        c.pending.push(entry);
        continue;
      }
      if (entry.seq <= c.sent) continue;
      bytes ??= enc.encode(entryEvent(entry));
      this.#send(c, bytes);
      c.sent = entry.seq;
    }
  }

  #scheduleRoster(): void {
    if (this.#rosterScheduled) return;
    this.#rosterScheduled = true;
    queueMicrotask(() => {
      this.#rosterScheduled = false;
      if (this.#clients.size === 0) return;
      const bytes = enc.encode(rosterEvent(this.#broker.agents()));
      for (const c of [...this.#clients]) this.#send(c, bytes);
    });
  }

  #send(client: Client, bytes: Uint8Array): void {
    if (client.closed) return;
    const desired = client.controller.desiredSize;
    if (desired !== null && desired < -this.#maxQueued) {
      client.close(); // stopped reading; it will resume from Last-Event-ID
      return;
    }
    try {
      client.controller.enqueue(bytes);
    } catch {
      client.close();
    }
  }
}
