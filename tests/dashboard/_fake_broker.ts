/**
 * A minimal in-memory {@link Broker} served over real HTTP on 127.0.0.1 (port
 * 0) with Hono: `/status`, `/log`, `/publish` and the plugins' routes. It
 * counts subscribers so tests can prove SSE clients are cleaned up. Used by
 * the web/SSE tests that do not need the real broker's disk log.
 * @module
 */
import { Hono } from "hono";
import type {
  AgentStatusEntry,
  Broker,
  BrokerEvent,
  BrokerPlugin,
  LogEntry,
  PublishResult,
} from "../../lib/broker/api.ts";
import { parseMessage, statusLabel } from "../../lib/core/messages.ts";

/** A fake broker plus its server. */
export type FakeBroker = Broker & {
  /** Current number of `subscribe()` listeners. */
  subscriberCount(): number;
  /** Make `logSince` slow (ms) to widen replay/live races. */
  logDelayMs: number;
  /** Stop serving (ending streams), then serve the same state on the same port. */
  restart(): Promise<void>;
  /** Stop serving for now; `restart()` brings it back. */
  pause(): Promise<void>;
};

type Row = { cli: string; status: string; lastSeen: number; phase?: string };

/** Start a fake broker with `plugins` mounted. */
export function startFakeBroker(
  opts: { session?: string; plugins?: BrokerPlugin[] } = {},
): Promise<FakeBroker> {
  const log: LogEntry[] = [];
  const roster = new Map<string, Row>();
  const listeners = new Set<(ev: BrokerEvent) => void>();
  const disposers: Array<() => Promise<void>> = [];
  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  let closed = false;
  const emit = (ev: BrokerEvent) => {
    for (const fn of [...listeners]) fn(ev);
  };

  const broker: FakeBroker = {
    url: "",
    port: 0,
    session: opts.session ?? "paw-fake",
    logDelayMs: 0,
    publish(input: unknown): Promise<PublishResult> {
      const r = parseMessage(input);
      if (!r.ok) return Promise.resolve({ ok: false, error: r.error });
      const now = Date.now() / 1000;
      const entry: LogEntry = {
        seq: log.length + 1,
        timestamp_unix_secs: Math.floor(now),
        message: r.message,
      };
      log.push(entry);
      const label = statusLabel(r.message);
      if (label !== null) {
        const prev = roster.get(r.agentId);
        const cli = r.message.type === "agent.status" && r.message.payload.cli
          ? r.message.payload.cli
          : prev?.cli ?? "";
        const phase = r.message.type === "agent.status"
          ? r.message.payload.phase ?? prev?.phase
          : prev?.phase;
        roster.set(r.agentId, {
          cli,
          status: label,
          lastSeen: now,
          ...(phase ? { phase } : {}),
        });
      }
      emit({ kind: "entry", entry });
      if (label !== null) emit({ kind: "roster" });
      return Promise.resolve({ ok: true, seq: entry.seq });
    },
    lastSeq: () => log.length,
    async logSince(since: number, limit = 1000) {
      if (broker.logDelayMs > 0) {
        await new Promise((r) => setTimeout(r, broker.logDelayMs));
      }
      return log.slice(since, since + limit);
    },
    agents(): AgentStatusEntry[] {
      const now = Date.now() / 1000;
      return [...roster.entries()].sort(([a], [b]) => a < b ? -1 : 1).map((
        [id, r],
      ) => ({
        agent_id: id,
        cli: r.cli,
        status: r.status,
        last_seen_seconds: Math.floor(now - r.lastSeen),
        summary: "",
        ...(r.phase ? { phase: r.phase } : {}),
      }));
    },
    watchTargets: () => [],
    watch: () => Promise.resolve(false),
    checkSpeaker: () => Promise.resolve(null),
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    subscriberCount: () => listeners.size,
    async close() {
      if (closed) return;
      closed = true;
      await stopServing();
    },
    async pause() {
      await stopServing();
    },
    async restart() {
      const port = broker.port;
      await stopServing();
      await serve(port);
    },
  };

  function buildApp(): Hono {
    const app = new Hono();
    app.get("/status", (c) =>
      c.json({
        git_paw: true,
        version: "test",
        session: broker.session,
        uptime_seconds: 0,
        agents: broker.agents(),
      }));
    app.get("/log", async (c) => {
      const since = Number(c.req.query("since") ?? "0");
      const limit = Number(c.req.query("limit") ?? "1000");
      const entries = await broker.logSince(since, limit);
      return c.json({
        entries,
        last_seq: entries.length ? entries[entries.length - 1]!.seq : since,
      });
    });
    app.post("/publish", async (c) => {
      const r = await broker.publish(await c.req.json());
      return r.ok ? c.body(null, 202) : c.json(r.error.body, r.error.status);
    });

    for (const p of opts.plugins ?? []) p.routes?.(app, broker);
    app.notFound((c) => c.json({ error: "not found" }, 404));
    return app;
  }

  async function stopServing(): Promise<void> {
    for (const d of disposers.splice(0)) await d();
    await server?.shutdown();
    server = null;
  }

  function serve(port: number): Promise<void> {
    const app = buildApp();
    return new Promise((resolve) => {
      server = Deno.serve({
        hostname: "127.0.0.1",
        port,
        onListen: async (addr) => {
          Object.assign(broker, {
            port: addr.port,
            url: `http://127.0.0.1:${addr.port}`,
          });
          for (const p of opts.plugins ?? []) {
            if (p.start) disposers.push(await p.start(broker));
          }
          resolve();
        },
      }, app.fetch);
    });
  }

  return serve(0).then(() => broker);
}
