/**
 * A tiny SSE reader for tests: opens `GET <url>` with fetch and yields parsed
 * events (comments included as `{comment}`), with a per-read timeout.
 * @module
 */

/** One parsed SSE block. */
export type ParsedEvent = {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
  retry?: string;
};

/** Parse one SSE block (the text between blank lines). */
export function parseBlock(block: string): ParsedEvent {
  const ev: ParsedEvent = {};
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      ev.comment = (ev.comment ? ev.comment + "\n" : "") + line.slice(1).trim();
      continue;
    }
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "data") {
      ev.data = ev.data === undefined ? value : ev.data + "\n" + value;
    } else if (field === "event" || field === "id" || field === "retry") {
      ev[field] = value;
    }
  }
  return ev;
}

/** An open event stream. */
export type SseConnection = {
  response: Response;
  /** Next event (comments skipped unless `withComments`). */
  next(
    opts?: { timeoutMs?: number; withComments?: boolean },
  ): Promise<ParsedEvent>;
  /** Next event named `name`, skipping others. */
  nextNamed(name: string, timeoutMs?: number): Promise<ParsedEvent>;
  /** Resolves true when the server ends the stream. */
  ended(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
};

/** Open `url` as an event stream. Throws if the status is not 200. */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseConnection> {
  const ac = new AbortController();
  const response = await fetch(url, { headers, signal: ac.signal });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`SSE ${url}: HTTP ${response.status}`);
  }
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  let buf = "";
  const queue: ParsedEvent[] = [];
  let done = false;
  let closed = false;
  let pending: Promise<ReadableStreamReadResult<string>> | null = null;

  async function fill(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error("SSE read timed out")), timeoutMs);
    });
    try {
      pending ??= reader.read();
      const r = await Promise.race([pending, timeout]);
      pending = null;
      if (r.done) {
        done = true;
        return;
      }
      buf += r.value;
      let k: number;
      while ((k = buf.indexOf("\n\n")) >= 0) {
        queue.push(parseBlock(buf.slice(0, k)));
        buf = buf.slice(k + 2);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  const conn: SseConnection = {
    response,
    async next(opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 5000);
      for (;;) {
        while (queue.length) {
          const ev = queue.shift()!;
          if (
            opts.withComments || ev.event !== undefined || ev.data !== undefined
          ) {
            return ev;
          }
        }
        if (done) throw new Error("SSE stream ended");
        await fill(Math.max(1, deadline - Date.now()));
      }
    },
    async nextNamed(name, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ev = await conn.next({
          timeoutMs: Math.max(1, deadline - Date.now()),
        });
        if ((ev.event ?? "message") === name) return ev;
      }
    },
    async ended(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!done) {
        queue.length = 0;
        await fill(Math.max(1, deadline - Date.now()));
      }
      return true;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await reader.cancel();
      } catch { /* already done */ }
      ac.abort();
    },
  };
  return conn;
}
