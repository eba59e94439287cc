/**
 * `deno task bench dashboard`: CPU of the pane-0 process (broker + dashboard)
 * while 8 agents publish one heartbeat a second over 60 s, for
 * - `none`: the broker alone (baseline, subtracted to get the dashboard's share);
 * - `event`: our TUI (redraw on broker events, coalesced, + 1 Hz age tick);
 * - `poll`: the original's design — every 50 ms read the roster, ingest new log
 *   entries and render the whole frame, no dirty check (the writes are still
 *   line-diffed, as ratatui diffs its buffers).
 *
 * Each mode runs in its own subprocess (this file with `child <mode>`), which
 * reports its own CPU time (`process.cpuUsage()`); the heartbeats come over
 * real HTTP from this process. Both dashboards draw into a null terminal of
 * 120×40 (same render and diff code, output discarded).
 * Set `DASHBOARD_BENCH_SECONDS` to shorten the run.
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./run.ts";

const AGENTS = 8;
const MODES = ["none", "event", "poll"] as const;
type Mode = typeof MODES[number];
type ChildReport = {
  mode: Mode;
  cpuMs: number;
  frames: number;
  bytes: number;
  entries: number;
};

async function child(mode: Mode): Promise<void> {
  const { startBroker } = await import("../lib/broker/server.ts");
  const { runDashboard } = await import("../lib/dashboard/tui.ts");
  const { ScreenWriter } = await import("../lib/dashboard/terminal.ts");
  const { createNullTerminal } = await import(
    "../tests/_helpers/null_terminal.ts"
  );
  const model = await import("../lib/core/dashboard_model.ts");
  const { renderFrame } = await import("../lib/dashboard/render.ts");
  const { defaultConfig } = await import("../lib/core/config.ts");
  const dir = await Deno.makeTempDir({ prefix: "dash-bench-" });
  const broker = await startBroker({
    port: 0,
    dataDir: dir,
    session: "bench",
    quiet: true,
  });
  const term = createNullTerminal({ columns: 120, rows: 40 }, { color: true });
  const ac = new AbortController();
  let frames = 0;
  let done: Promise<void> = Promise.resolve();
  if (mode === "event") {
    done = runDashboard(broker, {
      session: "bench",
      config: defaultConfig(),
      signal: ac.signal,
    }, { terminal: term, onFrame: () => void frames++ });
  } else if (mode === "poll") {
    // The original: a fixed 50 ms loop doing the same work every time.
    const state = model.createDashboardState({
      session: "bench",
      url: broker.url,
      maxMessages: 500,
      logVisible: true,
    });
    const screen = new ScreenWriter(term);
    let last = 0;
    done = (async () => {
      while (!ac.signal.aborted) {
        const now = Date.now() / 1000;
        model.applyRoster(state, broker.agents(), now);
        for (const e of await broker.logSince(last, 500)) {
          model.applyEntry(state, e);
          last = e.seq;
        }
        const lines = renderFrame(state, {
          width: 120,
          height: 40,
          now,
          color: true,
        });
        screen.draw(lines, { columns: 120, rows: 40 });
        frames++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }
  // Let start-up (module compile, first frames) settle, then measure.
  await new Promise((r) => setTimeout(r, 1500));
  const before = process.cpuUsage();
  console.log(broker.url);
  // Wait for "stop" on stdin.
  const reader = Deno.stdin.readable.getReader();
  while (true) {
    const r = await reader.read();
    if (r.done || new TextDecoder().decode(r.value).includes("stop")) break;
  }
  const used = process.cpuUsage(before);
  ac.abort();
  await done;
  const report: ChildReport = {
    mode,
    cpuMs: (used.user + used.system) / 1000,
    frames,
    bytes: term.bytes,
    entries: broker.lastSeq(),
  };
  console.log(JSON.stringify(report));
  reader.releaseLock();
  await broker.close();
  await Deno.remove(dir, { recursive: true });
  Deno.exit(0);
}

async function runMode(
  mode: Mode,
  seconds: number,
  heartbeats: boolean,
): Promise<ChildReport> {
  const self = fileURLToPath(import.meta.url);
  const config = fileURLToPath(new URL("../deno.json", import.meta.url));
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", config, self, "child", mode],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const nextLine = async (): Promise<string> => {
    while (!buf.includes("\n")) {
      const r = await lines.read();
      if (r.done) throw new Error(`bench child (${mode}) ended early`);
      buf += r.value;
    }
    const i = buf.indexOf("\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return line;
  };
  const url = (await nextLine()).trim();
  // 8 agents, one heartbeat a second each, spread over the second (or, when
  // idle, one status each at the start and then silence).
  const start = performance.now();
  let n = 0;
  const publish = async (a: number) => {
    const res = await fetch(`${url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "agent.status",
        agent_id: `feat-agent-${a}`,
        payload: {
          status: "working",
          modified_files: [`src/file_${a}.ts`],
          message: `heartbeat ${++n}`,
          cli: "claude",
        },
      }),
    });
    await res.body?.cancel();
  };
  for (let sec = 0; sec < (heartbeats ? seconds : 1); sec++) {
    for (let a = 0; a < AGENTS; a++) {
      const at = start + sec * 1000 + (a * 1000) / AGENTS;
      const wait = at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await publish(a);
    }
  }
  const end = start + seconds * 1000;
  const wait = end - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const w = proc.stdin.getWriter();
  await w.write(new TextEncoder().encode("stop\n"));
  await w.close();
  const report = JSON.parse(await nextLine()) as ChildReport;
  lines.releaseLock();
  await proc.stdout.cancel().catch(() => {});
  await proc.status;
  return report;
}

async function scenario(
  seconds: number,
  heartbeats: boolean,
): Promise<BenchResult> {
  const reports: Record<string, ChildReport> = {};
  for (const mode of MODES) {
    console.error(
      `dashboard bench: ${
        heartbeats ? "heartbeats" : "idle"
      }, ${mode}, ${seconds}s ...`,
    );
    reports[mode] = await runMode(mode, seconds, heartbeats);
  }
  const base = reports.none!.cpuMs;
  const share = (m: Mode) => Math.max(1, reports[m]!.cpuMs - base);
  const row = (m: Mode, label: string) => ({
    design: label,
    "process CPU (ms)": reports[m]!.cpuMs.toFixed(0),
    "dashboard CPU (ms, minus broker-only)": m === "none"
      ? "—"
      : share(m).toFixed(0),
    "CPU % of one core": ((reports[m]!.cpuMs / (seconds * 1000)) * 100)
      .toFixed(2),
    frames: reports[m]!.frames,
    "bytes written": reports[m]!.bytes,
    "messages published": reports[m]!.entries,
  });
  const ratio = share("poll") / share("event");
  return {
    title: heartbeats
      ? `Dashboard CPU: ${AGENTS} agents × 1 heartbeat/s for ${seconds} s (pane-0 process, 120×40 null terminal)`
      : `Dashboard CPU: ${AGENTS} agents listed, nobody publishing, ${seconds} s`,
    rows: [
      row("none", "broker only (baseline)"),
      row("event", "event-driven TUI (ours)"),
      row("poll", "50 ms redraw loop (original design)"),
    ],
    notes: [
      `Dashboard CPU ratio, 50 ms loop ÷ event-driven: **${
        ratio.toFixed(1)
      }×** (whole-process CPU ratio ${
        (reports.poll!.cpuMs / reports.event!.cpuMs).toFixed(2)
      }×; frames ${reports.poll!.frames} vs ${reports.event!.frames}).`,
    ],
  };
}

/** Run both scenarios (heartbeats, then idle) for the three modes. */
export async function run(): Promise<BenchResult[]> {
  const seconds = Number(Deno.env.get("DASHBOARD_BENCH_SECONDS") ?? 60);
  const busy = await scenario(seconds, true);
  const idle = await scenario(Math.min(seconds, 30), false);
  idle.notes!.push(
    "The same view model, renderer (with memoised panel rows) and line-diffing writer run in both dashboards; only when they run differs: on broker events (coalesced into one frame per ~40 ms) plus a 1 Hz age tick that is skipped right after an event frame, versus unconditionally every 50 ms. CPU is the child process's own user+system time (`process.cpuUsage()`), measured after a 1.5 s warm-up; the machine is shared, so single runs vary by ±20%.",
  );
  return [busy, idle];
}

if (import.meta.main && Deno.args[0] === "child") {
  await child(Deno.args[1] as Mode);
}
