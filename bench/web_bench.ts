/**
 * Web dashboard and replay benchmarks (`deno task bench web`):
 * 1. SSE fan-out through the real broker: N `/events` clients, 1000 publishes
 *    over HTTP; publish→event latency (median, p99, measured at the clients)
 *    and delivered events per second;
 * 2. catch-up: a client reconnecting with `Last-Event-ID: 0` after 20 000
 *    entries — time until it has replayed them all;
 * 3. `replay` ANSI stripping throughput on a 32 MB colour-heavy log.
 * @module
 */
import type { BenchResult } from "./run.ts";
import { startBroker } from "../lib/broker/server.ts";
import { webPlugin } from "../lib/dashboard/web.ts";
import { stripAnsi } from "../lib/dashboard/replay.ts";

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** Read an event stream, calling `onEntry(seq)` for each entry event. */
async function consume(
  url: string,
  headers: Record<string, string>,
  onEntry: (seq: number) => boolean,
): Promise<void> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      buf += r.value;
      let k: number;
      while ((k = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, k);
        buf = buf.slice(k + 2);
        const m = /^id: (\d+)$/m.exec(block);
        if (m && block.includes("event: entry") && onEntry(Number(m[1]))) {
          return;
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
    ac.abort();
  }
}

async function fanout(clients: number, messages: number) {
  const dir = await Deno.makeTempDir({ prefix: "paw-web-bench-" });
  const broker = await startBroker({
    port: 0,
    dataDir: dir,
    session: "bench",
    quiet: true,
    plugins: [webPlugin()],
  });
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  try {
    let ready = 0;
    let readyResolve!: () => void;
    const allReady = new Promise<void>((r) => readyResolve = r);
    const done = Array.from({ length: clients }, () =>
      (async () => {
        const ac = new AbortController();
        const res = await fetch(`${broker.url}/events`, { signal: ac.signal });
        if (++ready === clients) readyResolve();
        const reader = res.body!.pipeThrough(new TextDecoderStream())
          .getReader();
        let buf = "";
        let got = 0;
        try {
          while (got < messages) {
            const r = await reader.read();
            if (r.done) break;
            buf += r.value;
            let k: number;
            while ((k = buf.indexOf("\n\n")) >= 0) {
              const block = buf.slice(0, k);
              buf = buf.slice(k + 2);
              const m = /^id: (\d+)$/m.exec(block);
              if (!m) continue;
              got++;
              const t0 = sentAt.get(Number(m[1]));
              if (t0 !== undefined) latencies.push(performance.now() - t0);
            }
          }
        } finally {
          await reader.cancel().catch(() => {});
          ac.abort();
        }
      })());
    await allReady;
    const start = performance.now();
    for (let i = 0; i < messages; i++) {
      sentAt.set(i + 1, performance.now()); // fresh broker: seq = i + 1
      const r = await fetch(`${broker.url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          type: "agent.status",
          agent_id: `feat-${i % 8}`,
          payload: { status: "working", modified_files: ["src/a.ts"] },
        }),
      });
      await r.body?.cancel();
    }
    await Promise.all(done);
    const secs = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      clients,
      messages,
      "events delivered/s": Math.round(clients * messages / secs),
      "latency median (ms)": pct(latencies, 0.5).toFixed(2),
      "latency p99 (ms)": pct(latencies, 0.99).toFixed(2),
    };
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function catchUp(entries: number) {
  const dir = await Deno.makeTempDir({ prefix: "paw-web-bench-" });
  const broker = await startBroker({
    port: 0,
    dataDir: dir,
    session: "bench",
    quiet: true,
    plugins: [webPlugin()],
  });
  try {
    for (let i = 0; i < entries; i++) {
      await broker.publish({
        type: "agent.status",
        agent_id: `feat-${i % 8}`,
        payload: { status: "working", modified_files: [] },
      });
    }
    const t0 = performance.now();
    let last = 0;
    await consume(`${broker.url}/events`, { "last-event-id": "0" }, (seq) => {
      if (seq !== last + 1) throw new Error(`gap: ${last} → ${seq}`);
      last = seq;
      return seq === entries;
    });
    return {
      entries,
      "replay time (ms)": Math.round(performance.now() - t0),
      "entries/s": Math.round(entries / ((performance.now() - t0) / 1000)),
    };
  } finally {
    await broker.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function stripThroughput() {
  const line =
    "\x1b[1;32m✓\x1b[0m \x1b[38;5;245mtests\x1b[m passed in 12ms \x1b]0;title\x07 ok\r\n";
  const chunk = line.repeat(4096);
  const reps = Math.ceil(32 * 1024 * 1024 / chunk.length);
  const t0 = performance.now();
  let out = 0;
  for (let i = 0; i < reps; i++) out += stripAnsi(chunk).length;
  const secs = (performance.now() - t0) / 1000;
  const mb = reps * chunk.length / 1024 / 1024;
  return {
    "input (MB)": mb.toFixed(1),
    "output (MB)": (out / 1024 / 1024).toFixed(1),
    "MB/s": Math.round(mb / secs),
  };
}

/** Run the benchmarks. */
export async function run(): Promise<BenchResult[]> {
  const rows = [];
  for (const clients of [1, 10, 50]) rows.push(await fanout(clients, 1000));
  return [
    {
      title: "Web dashboard: SSE fan-out through the real broker",
      rows,
      notes: [
        "1000 `agent.status` publishes over HTTP, one after another; each client reads `/events`. Latency = publish request start → event parsed by the client (includes the broker's durable write before it emits). One broker subscription is shared by all clients; each event is encoded once.",
      ],
    },
    {
      title: "Web dashboard: catch-up after reconnect (Last-Event-ID: 0)",
      rows: [await catchUp(20_000)],
      notes: [
        "A reconnecting page replays missed entries from the broker log in pages of 500, then continues live; checked for gaps.",
      ],
    },
    {
      title: "replay: ANSI stripping throughput",
      rows: [stripThroughput()],
      notes: [
        "Streaming state machine (CSI, OSC, DCS, ESC pairs, controls); constant memory per chunk.",
      ],
    },
  ];
}
