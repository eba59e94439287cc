/**
 * Broker benchmark (`deno task bench broker`): three ratios, measured side by
 * side in one run with `wrk` as the load client (far cheaper than the server).
 *
 * (a) publish req/s of `git-paw broker` (durability on) ÷ a bare `Deno.serve`
 *     that only parses the JSON body and answers 202 — same wrk script;
 * (b) poll req/s reading the same 10 messages from a 100,000-message inbox ÷
 *     from a 20-message inbox;
 * (c) broker RSS after 1,000,000 published messages − RSS after 10,000.
 *
 * Servers run as subprocesses so the bench's own event loop costs them
 * nothing. With `taskset` and two or more CPUs the server runs on CPU 1 and
 * wrk on CPU 0, so neither side's numbers depend on where the scheduler put
 * the other (unpinned, the same server moved by ±30 % between runs here).
 * Without `/usr/bin/wrk` the wrk parts are skipped with a note.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./run.ts";
import { clockTicks, cpuTicks, median } from "./_util.ts";
import { parseMessage } from "../lib/core/messages.ts";
import { openStore } from "../lib/broker/store.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const WRK = "/usr/bin/wrk";
const DURATION = Number(Deno.env.get("BROKER_BENCH_SECONDS") ?? "5");
const CONNS = 32;
/** Alternating bare / broker rounds of the publish bench. */
const PUBLISH_ROUNDS = Number(Deno.env.get("BROKER_BENCH_ROUNDS") ?? "3");
const TASKSET = "/usr/bin/taskset";
/** Pin servers and wrk to CPUs of their own (see the module docs). */
const PIN = (() => {
  try {
    Deno.statSync(TASKSET);
    return navigator.hardwareConcurrency >= 2;
  } catch {
    return false;
  }
})();

/** `cmd args` run on CPU `cpu` when pinning is on. */
function onCpu(cpu: number, cmd: string, args: string[]): [string, string[]] {
  return PIN ? [TASKSET, ["-c", String(cpu), cmd, ...args]] : [cmd, args];
}
/** A capped V8 young generation, measured for comparison. */
const RECOMMENDED_V8 = "--max-semi-space-size=4";

const STATUS_BODY = JSON.stringify({
  type: "agent.status",
  agent_id: "feat-bench",
  payload: { status: "working", modified_files: ["src/a.ts", "src/b.ts"] },
});

const BARE_SERVER = `
const s = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen({ port }) {
  console.log("http://127.0.0.1:" + port);
} }, async (req) => {
  await req.json();
  return new Response(null, { status: 202 });
});
`;

function luaPost(body: string): string {
  return `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = ${JSON.stringify(body)}
`;
}

/** Many agents, every 10th request an artifact broadcast to 20 inboxes. */
const LUA_MIXED = `
local n = 0
request = function()
  n = n + 1
  local id = "feat-a" .. (n % 20)
  local body
  if n % 10 == 0 then
    body = '{"type":"agent.artifact","agent_id":"' .. id .. '","payload":{"status":"done","exports":["f' .. n .. '"],"modified_files":["src/' .. n .. '.ts"]}}'
  else
    body = '{"type":"agent.status","agent_id":"' .. id .. '","payload":{"status":"working","modified_files":["src/x.ts"],"message":"step ' .. n .. '"}}'
  end
  return wrk.format("POST", "/publish", {["Content-Type"] = "application/json"}, body)
end
`;

type Proc = { child: Deno.ChildProcess; url: string; pid: number };

async function spawnServer(args: string[]): Promise<Proc> {
  const [cmd, argv] = onCpu(1, Deno.execPath(), args);
  const child = new Deno.Command(cmd, {
    args: argv,
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited before printing its URL: ${out}`);
    out += value;
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    for (;;) if ((await reader.read()).done) break;
  })();
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
  if (!url) throw new Error(`no URL in: ${out}`);
  return { child, url, pid: child.pid };
}

async function stop(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* gone */ }
  await p.child.status;
}

async function startBrokerProc(
  dataDir: string,
  v8 = Deno.env.get("BROKER_BENCH_V8"),
): Promise<Proc> {
  return await spawnServer([
    "run",
    ...(v8 ? [`--v8-flags=${v8}`] : []),
    "-A",
    MAIN,
    "broker",
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--session",
    "bench",
  ]);
}

type WrkResult = {
  rps: number;
  non2xx: number;
  requests: number;
  p50: string;
  p99: string;
};

async function wrk(
  url: string,
  lua: string,
  seconds: number,
  conns = CONNS,
): Promise<WrkResult> {
  const dir = await Deno.makeTempDir({ prefix: "paw-wrk-" });
  try {
    const script = join(dir, "s.lua");
    await Deno.writeTextFile(script, lua);
    const [cmd, args] = onCpu(0, WRK, [
      "-t1",
      `-c${conns}`,
      `-d${seconds}s`,
      "--latency",
      "-s",
      script,
      url,
    ]);
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
    const non2xx = Number(
      /Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0,
    );
    const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
    // The latency distribution's own lines ("     50%  391.00us"), not a
    // "+/- Stdev" column that happens to end in 50%.
    const p50 = /^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? "?";
    const p99 = /^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? "?";
    if (!Number.isFinite(rps)) {
      throw new Error(
        `wrk failed: ${text} ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return { rps, non2xx, requests, p50, p99 };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** wrk against `p`, with the server's CPU µs per answered request. */
async function wrkCpu(
  p: Proc,
  path: string,
  lua: string,
  seconds: number,
): Promise<WrkResult & { cpuUs: number }> {
  const before = cpuTicks(p.pid);
  const r = await wrk(`${p.url}${path}`, lua, seconds);
  const usedUs = (cpuTicks(p.pid) - before) * 1e6 / await clockTicks();
  return { ...r, cpuUs: usedUs / Math.max(1, r.requests) };
}

async function rssKiB(pid: number): Promise<number> {
  const s = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(s)?.[1] ?? NaN);
}

async function lastSeq(url: string): Promise<number> {
  const r = await fetch(`${url}/status`);
  return (await r.json()).last_seq;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

// ---------------------------------------------------------------------------

async function benchPublish(): Promise<BenchResult> {
  const bareDir = await Deno.makeTempDir({ prefix: "paw-bare-" });
  const dataDirs: string[] = [];
  try {
    const bareFile = join(bareDir, "bare.ts");
    await Deno.writeTextFile(bareFile, BARE_SERVER);
    const lua = luaPost(STATUS_BODY);
    type Run = WrkResult & { cpuUs: number };
    const runs: Array<{ bare: Run; broker: Run }> = [];
    // Alternate so drift (thermal, neighbours) hits both sides alike. Each
    // broker round starts on a log of its own: one restarted on the last
    // round's long log spends its first seconds with its plugins reading
    // that log back (measured apart, bench/RESULTS.broker.md), which is not
    // what this compares.
    for (let round = 0; round < PUBLISH_ROUNDS; round++) {
      const bare = await spawnServer(["run", "-A", bareFile]);
      await wrk(`${bare.url}/publish`, lua, 1); // warm-up
      const b = await wrkCpu(bare, "/publish", lua, DURATION);
      await stop(bare);
      const dataDir = await Deno.makeTempDir({ prefix: "paw-bench-" });
      dataDirs.push(dataDir);
      const broker = await startBrokerProc(dataDir);
      await wrk(`${broker.url}/publish`, lua, 1);
      const k = await wrkCpu(broker, "/publish", lua, DURATION);
      await stop(broker);
      runs.push({ bare: b, broker: k });
    }
    const bare = Math.max(...runs.map((r) => r.bare.rps));
    const broker = Math.max(...runs.map((r) => r.broker.rps));
    const ratio = broker / bare;
    // CPU per request: what the server itself spends, less moved by what
    // else runs on the machine than requests per second are.
    const bareCpu = Math.min(...runs.map((r) => r.bare.cpuUs));
    const brokerCpu = Math.min(...runs.map((r) => r.broker.cpuUs));
    const cpuRatio = bareCpu / brokerCpu;
    // Each round's own ratio (its bare and broker ran minutes apart at
    // most): the median is less moved by one lucky or unlucky run.
    const perRound = runs.map((r) => r.broker.rps / r.bare.rps)
      .sort((a, b) => a - b);
    const medianRound = median(perRound);
    // Everything acknowledged is in the log.
    let lines = 0;
    for (const dir of dataDirs) {
      lines += (await Deno.readTextFile(join(dir, "bench.jsonl")))
        .split("\n").filter((l) => l).length;
    }
    const acked = runs.reduce(
      (a, r) => a + r.broker.requests - r.broker.non2xx,
      0,
    );
    return {
      title: "Broker publish throughput (wrk, durability on)",
      rows: [
        ...runs.flatMap((r, i) => [
          {
            server: `bare Deno.serve (parse JSON, 202) — round ${i + 1}`,
            "req/s": fmt(r.bare.rps),
            "CPU µs/req": fmt(r.bare.cpuUs, 1),
            p50: r.bare.p50,
            p99: r.bare.p99,
            "non-2xx": r.bare.non2xx,
          },
          {
            server: `git-paw broker /publish — round ${i + 1}`,
            "req/s": fmt(r.broker.rps),
            "CPU µs/req": fmt(r.broker.cpuUs, 1),
            p50: r.broker.p50,
            p99: r.broker.p99,
            "non-2xx": r.broker.non2xx,
          },
        ]),
        {
          server: "**ratio broker ÷ bare (best of each)**",
          "req/s": `**${fmt(ratio, 2)}**`,
          "CPU µs/req": `**${
            fmt(cpuRatio, 2)
          }** (bare ÷ broker, lowest of each)`,
          p50: "",
          p99: "",
          "non-2xx": "",
        },
      ],
      notes: [
        `wrk -t1 -c${CONNS} -d${DURATION}s${
          PIN ? " on CPU 0, the server on CPU 1" : " (not pinned)"
        }, one agent.status body (${STATUS_BODY.length} B), ${PUBLISH_ROUNDS} alternating rounds after a 1 s warm-up each, each broker on a fresh data dir. Goal ≥ 0.6: ${
          ratio >= 0.6 ? "met" : "NOT met"
        } by requests per second. The servers' own CPU time per request (all threads, /proc) gives ${
          fmt(cpuRatio, 2)
        }: requests per second on a shared machine move with its neighbours, CPU per request much less. Per round (req/s): ${
          perRound.map((r) => fmt(r, 2)).join(", ")
        }, median ${fmt(medianRound, 2)}.`,
        `Durability check: ${fmt(lines)} lines in the session log for ≥ ${
          fmt(acked)
        } acknowledged publishes (including warm-ups): ${
          lines >= acked ? "nothing lost" : "LOST MESSAGES"
        }.`,
      ],
    };
  } finally {
    await Deno.remove(bareDir, { recursive: true });
    for (const dir of dataDirs) await Deno.remove(dir, { recursive: true });
  }
}

/** Write a session log directly (the broker replays it on start). */
async function writeLog(path: string, messages: unknown[]): Promise<void> {
  const f = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    const enc = new TextEncoder();
    let buf: string[] = [];
    const ts = Math.floor(Date.now() / 1000);
    for (let i = 0; i < messages.length; i++) {
      buf.push(
        `{"seq":${i + 1},"timestamp_unix_secs":${ts},"message":${
          JSON.stringify(messages[i])
        }}\n`,
      );
      if (buf.length >= 5000) {
        await f.write(enc.encode(buf.join("")));
        buf = [];
      }
    }
    await f.write(enc.encode(buf.join("")));
  } finally {
    f.close();
  }
}

function norm(input: unknown): unknown {
  const r = parseMessage(input);
  if (!r.ok) throw new Error(JSON.stringify(r.error.body));
  return r.message;
}

async function benchPoll(): Promise<BenchResult> {
  const dataDir = await Deno.makeTempDir({ prefix: "paw-bench-" });
  try {
    // big: 99,990 artifacts + the 10 shared ones = 100,000.
    // small: 10 feedbacks + the 10 shared ones = 20.
    const msgs: unknown[] = [];
    msgs.push(
      norm({
        type: "agent.status",
        agent_id: "big",
        payload: { status: "working" },
      }),
    );
    for (let i = 0; i < 99_990; i++) {
      msgs.push(norm({
        type: "agent.artifact",
        agent_id: `feat-w${i % 5}`,
        payload: {
          status: "done",
          exports: [`f${i}`],
          modified_files: [`src/${i}.ts`],
        },
      }));
    }
    msgs.push(
      norm({
        type: "agent.status",
        agent_id: "small",
        payload: { status: "working" },
      }),
    );
    for (let i = 0; i < 10; i++) {
      msgs.push(norm({
        type: "agent.feedback",
        agent_id: "small",
        payload: { from: "supervisor", errors: [`e${i}`] },
      }));
    }
    const sharedSince = msgs.length;
    for (let i = 0; i < 10; i++) {
      msgs.push(norm({
        type: "agent.artifact",
        agent_id: "feat-w0",
        payload: {
          status: "done",
          exports: [`shared${i}`],
          modified_files: [],
        },
      }));
    }
    await writeLog(join(dataDir, "bench.jsonl"), msgs);
    const t0 = performance.now();
    const broker = await startBrokerProc(dataDir);
    const replayMs = performance.now() - t0;
    try {
      const check = async (id: string) => {
        const r = await (await fetch(`${broker.url}/messages/${id}?since=0`))
          .json();
        return r.messages.length as number;
      };
      const sizes = { big: await check("big"), small: await check("small") };
      const get = (id: string, since: number) =>
        `wrk.method = "GET"\nwrk.path = "/messages/${id}?since=${since}"\n`;
      const body = async (id: string) =>
        await (await fetch(`${broker.url}/messages/${id}?since=${sharedSince}`))
          .text();
      const same = (await body("big")) === (await body("small"));
      await wrk(broker.url, get("big", sharedSince), 1);
      const runs: Array<{ big: WrkResult; small: WrkResult }> = [];
      for (let round = 0; round < 2; round++) {
        const big = await wrk(broker.url, get("big", sharedSince), DURATION);
        const small = await wrk(
          broker.url,
          get("small", sharedSince),
          DURATION,
        );
        runs.push({ big, small });
      }
      // Extra: 10 old messages from the middle of the big inbox (read from disk).
      const cold = await wrk(
        broker.url,
        `wrk.method = "GET"\nwrk.path = "/messages/big?since=50000&limit=10"\n`,
        DURATION,
      );
      const big = Math.max(...runs.map((r) => r.big.rps));
      const small = Math.max(...runs.map((r) => r.small.rps));
      const ratio = big / small;
      return {
        title: "Broker poll cost vs inbox size (wrk, GET /messages)",
        rows: [
          ...runs.flatMap((r, i) => [
            {
              inbox: `100,000 messages (${fmt(sizes.big)}) — round ${i + 1}`,
              "req/s": fmt(r.big.rps),
              p50: r.big.p50,
              p99: r.big.p99,
            },
            {
              inbox: `20 messages (${fmt(sizes.small)}) — round ${i + 1}`,
              "req/s": fmt(r.small.rps),
              p50: r.small.p50,
              p99: r.small.p99,
            },
          ]),
          {
            inbox: "**ratio 100,000 ÷ 20 (best of each)**",
            "req/s": `**${fmt(ratio, 2)}**`,
            p50: "",
            p99: "",
          },
          {
            inbox: "(info) 10 old messages read back from disk, 100,000 inbox",
            "req/s": fmt(cold.rps),
            p50: cold.p50,
            p99: cold.p99,
          },
        ],
        notes: [
          `Both polls return the same 10 messages (identical bodies: ${same}). Goal ≥ 0.8: ${
            ratio >= 0.8 ? "met" : "NOT met"
          }. Replay of the ${fmt(msgs.length)}-entry log at start: ${
            fmt(replayMs)
          } ms (includes process start).`,
        ],
      };
    } finally {
      await stop(broker);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function benchRss(v8?: string): Promise<BenchResult> {
  const dataDir = await Deno.makeTempDir({ prefix: "paw-bench-" });
  try {
    const broker = await startBrokerProc(dataDir, v8);
    try {
      let rate = 20_000; // req/s, re-measured on every wrk chunk
      const fill = async (target: number) => {
        for (;;) {
          const have = await lastSeq(broker.url);
          if (have >= target) return have;
          const left = target - have;
          if (left > rate * 1.5) {
            const secs = Math.max(
              1,
              Math.min(20, Math.floor(left / rate / 1.2)),
            );
            const r = await wrk(`${broker.url}/publish`, LUA_MIXED, secs);
            rate = Math.max(1000, r.rps);
          } else {
            // Top up precisely with parallel batches over HTTP.
            await Promise.all(
              Array.from(
                { length: Math.min(left, 500) },
                (_, i) =>
                  fetch(`${broker.url}/publish`, {
                    method: "POST",
                    headers: { "content-type": "application/json" },
                    body: JSON.stringify({
                      type: "agent.status",
                      agent_id: `feat-a${i % 20}`,
                      payload: { status: "working" },
                    }),
                  }).then((r) => r.body?.cancel()),
              ),
            );
          }
        }
      };
      const t0 = performance.now();
      const rows: Array<Record<string, string>> = [];
      const points: Array<{ n: number; rss: number }> = [];
      for (const target of [10_000, 100_000, 500_000, 1_000_000]) {
        const n = await fill(target);
        await new Promise((r) => setTimeout(r, 1000));
        const rss = await rssKiB(broker.pid);
        points.push({ n, rss });
        rows.push({
          point: `after ${fmt(n)} messages`,
          "VmRSS MiB": fmt(rss / 1024, 1),
        });
      }
      const fillSecs = (performance.now() - t0) / 1000;
      const diffMiB = (points[points.length - 1]!.rss - points[0]!.rss) / 1024;
      const [p2, p3] = points.slice(-2) as [
        { n: number; rss: number },
        { n: number; rss: number },
      ];
      const slope = ((p3.rss - p2.rss) / 1024) / ((p3.n - p2.n) / 100_000);
      rows.push({
        point: "**difference 1,000,000 − 10,000**",
        "VmRSS MiB": `**${fmt(diffMiB, 1)}**`,
      });
      const logBytes = (await Deno.stat(join(dataDir, "bench.jsonl"))).size;
      return {
        title:
          `Broker memory after 1,000,000 messages (RSS of the broker process${
            v8 ? `, run with --v8-flags=${v8}` : ", run as `git-paw broker`"
          })`,
        rows,
        notes: [
          `Published over HTTP (wrk, 20 agents, every 10th message an artifact broadcast to the other inboxes) in ${
            fmt(fillSecs, 1)
          } s; session log ${
            fmt(logBytes / 1024 / 1024, 1)
          } MiB on disk. Goal ≤ 64 MiB: ${diffMiB <= 64 ? "met" : "NOT met"}.`,
          `Steady-state slope: ${
            fmt(slope, 2)
          } MiB per 100,000 messages between the last two points. The broker's own memory per message is ~4 B (seq → offset index) plus 4 B per inbox delivery, with a fixed 4 MiB ring of the log's tail; the step during the first ~100,000 messages is V8 sizing its heap (mostly the young generation) for the request burst, not per-message state.`,
        ],
      };
    } finally {
      await stop(broker);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------
// Restart: start → first /status answer with a 1,000,000-entry log, from a
// checkpoint vs a full replay; and what writing a checkpoint costs
// publishes meanwhile. Needs no wrk.

const RESTART_ENTRIES = Number(
  Deno.env.get("BROKER_BENCH_RESTART_ENTRIES") ?? "1000000",
);

/**
 * A session log of `n` entries (9 statuses : 1 artifact broadcast, over 20
 * agents) plus a human log that already ends at seq `n`.
 */
async function writeRestartLog(dir: string, n: number): Promise<void> {
  const status = JSON.stringify(norm({
    type: "agent.status",
    agent_id: "feat-id",
    payload: { status: "working", modified_files: ["src/x.ts"], message: "N" },
  }));
  const artifact = JSON.stringify(norm({
    type: "agent.artifact",
    agent_id: "feat-id",
    payload: { status: "done", exports: ["N"], modified_files: ["src/N.ts"] },
  }));
  const f = await Deno.open(join(dir, "bench.jsonl"), {
    write: true,
    create: true,
    truncate: true,
  });
  const ts = Math.floor(Date.now() / 1000);
  try {
    const enc = new TextEncoder();
    let buf = "";
    for (let i = 1; i <= n; i++) {
      const body = (i % 10 === 0 ? artifact : status)
        .replace("feat-id", `feat-a${(i % 10 === 0 ? i / 10 : i) % 20}`)
        .replaceAll('"N"', `"${i}"`)
        .replace("src/N.ts", `src/${i}.ts`);
      buf += `{"seq":${i},"timestamp_unix_secs":${ts},"message":${body}}\n`;
      if (i % 20_000 === 0) {
        await f.write(enc.encode(buf));
        buf = "";
      }
    }
    await f.write(enc.encode(buf));
  } finally {
    f.close();
  }
  await Deno.writeTextFile(
    join(dir, "bench.broker.log"),
    `[${n}] ${ts} [feat-a0] [feat-a0] status: working\n`,
  );
}

/** Spawn the broker on `dataDir`; ms until its first /status answer. */
async function timeToStatus(dataDir: string): Promise<{ ms: number; p: Proc }> {
  const t0 = performance.now();
  const p = await startBrokerProc(dataDir);
  for (;;) {
    try {
      const r = await fetch(`${p.url}/status`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 2));
  }
  return { ms: performance.now() - t0, p };
}

async function sizeMiB(path: string): Promise<string> {
  try {
    return fmt((await Deno.stat(path)).size / 1048576, 1);
  } catch {
    return "—";
  }
}

/** Publish `n` statuses with 32 clients in parallel. */
async function publishMany(url: string, n: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < n) {
      const i = next++;
      const r = await fetch(`${url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          type: "agent.status",
          agent_id: `feat-a${i % 20}`,
          payload: { status: "working", message: `after ${i}` },
        }),
      });
      await r.body?.cancel();
    }
  }));
}

async function benchRestart(): Promise<BenchResult> {
  const empty = await Deno.makeTempDir({ prefix: "paw-bench-" });
  const dir = await Deno.makeTempDir({ prefix: "paw-bench-" });
  const ckpt = join(dir, "bench.jsonl.checkpoint");
  const rows: Array<Record<string, string>> = [];
  const row = (c: string, ms: number, note: string) =>
    rows.push({ case: c, "start → /status (ms)": fmt(ms), note });
  try {
    let r = await timeToStatus(empty);
    await stop(r.p);
    row("empty log (process start-up floor)", r.ms, "");
    await writeRestartLog(dir, RESTART_ENTRIES);
    const logMiB = await sizeMiB(join(dir, "bench.jsonl"));

    r = await timeToStatus(dir);
    const full = r.ms;
    row(
      `${fmt(RESTART_ENTRIES)} entries, no checkpoint (full replay)`,
      r.ms,
      `log ${logMiB} MiB`,
    );
    const t0 = performance.now();
    await stop(r.p); // close writes the checkpoint
    const stopMs = performance.now() - t0;

    r = await timeToStatus(dir);
    const clean = r.ms;
    row(
      `${fmt(RESTART_ENTRIES)} entries, checkpoint from a clean stop`,
      r.ms,
      `checkpoint ${await sizeMiB(ckpt)} MiB; SIGTERM → exit ${
        fmt(stopMs)
      } ms (writes it)`,
    );
    // Near the worst case: the next checkpoint is due once max(8 MiB, the
    // checkpoint's size) of log is past it; stay just under that.
    const tail = 55_000;
    await publishMany(r.p.url, tail);
    const tKill = performance.now();
    r.p.child.kill("SIGKILL");
    await r.p.child.status;
    const killedAt = performance.now() - tKill;
    const head = await Deno.readFile(ckpt);
    const covered = JSON.parse(
      new TextDecoder().decode(head.subarray(0, head.indexOf(10))),
    ).log_offset;
    const tailMiB = (await Deno.stat(join(dir, "bench.jsonl"))).size -
      covered;
    const tRestart = performance.now();
    r = await timeToStatus(dir);
    const killed = killedAt + performance.now() - tRestart;
    await stop(r.p);
    row(
      `kill -9 after ${fmt(tail)} more publishes: checkpoint + tail`,
      r.ms,
      `kill -9 → /status ${fmt(killed)} ms; tail replayed ${
        fmt(tailMiB / 1048576, 1)
      } MiB`,
    );
    await Deno.remove(ckpt).catch(() => {});
    const stall = await benchCheckpointStall(dir);
    return {
      title: "Broker restart: start → first /status answer",
      rows,
      notes: [
        `Subprocess \`git-paw broker\` on a log written beforehand (9 agent.status : 1 agent.artifact over 20 agents, ~${
          fmt(RESTART_ENTRIES / 10 * 19)
        } inbox deliveries); timed from spawn until GET /status answers. Goal (kill -9 → /status ≤ 2 s with 1M entries): ${
          killed <= 2000 ? "met" : "NOT met"
        }; checkpoint ÷ full replay ${fmt(clean / full, 2)}.`,
        ...stall,
      ],
    };
  } finally {
    await Deno.remove(empty, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * In-process: one publish per ms (awaited) for 1 s without and then while a
 * checkpoint of the 1M-entry state is written; event-loop gaps and publish
 * latencies.
 */
async function benchCheckpointStall(dir: string): Promise<string[]> {
  const store = await openStore({
    dataDir: dir,
    session: "bench",
    checkpointBytes: 2 ** 40,
    warn: () => {},
  });
  const body = norm({
    type: "agent.status",
    agent_id: "feat-stall",
    payload: { status: "working" },
  }) as Parameters<typeof store.publish>[0];
  const measure = async (work: () => Promise<unknown>) => {
    let gap = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
    }, 1);
    const lat: number[] = [];
    let done = false;
    const t0 = performance.now();
    const job = work().then(() => (done = true));
    const pub = (async () => {
      while (!done || lat.length < 50) {
        const t = performance.now();
        await store.publish(body, Date.now()).durable;
        lat.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await job;
    const ms = performance.now() - t0;
    await pub;
    clearInterval(tick);
    lat.sort((a, b) => a - b);
    return {
      ms,
      gap,
      p99: lat[Math.floor(lat.length * 0.99)]!,
      max: lat[lat.length - 1]!,
      n: lat.length,
    };
  };
  try {
    const idle = await measure(() => new Promise((r) => setTimeout(r, 1000)));
    const ck = await measure(() => store.checkpoint());
    const line = (what: string, m: typeof idle) =>
      `${what}: ${m.n} publishes, latency p99 ${fmt(m.p99, 1)} ms, max ${
        fmt(m.max, 1)
      } ms; longest event-loop gap ${fmt(m.gap, 1)} ms.`;
    return [
      `Checkpoint write (in-process, ${fmt(RESTART_ENTRIES)}-entry state): ${
        fmt(ck.ms)
      } ms in the background.`,
      line("Publishing meanwhile", ck),
      line("Baseline, no checkpoint, 1 s", idle),
    ];
  } finally {
    await store.close();
  }
}

/** Entry point for bench/run.ts. */
export async function run(): Promise<BenchResult[]> {
  const only = Deno.env.get("BROKER_BENCH_ONLY");
  if (only === "restart") return [await benchRestart()];
  let haveWrk = true;
  try {
    await Deno.stat(WRK);
  } catch {
    haveWrk = false;
  }
  if (!haveWrk) {
    return [{
      title: "Broker benchmarks",
      rows: [],
      notes: [
        `${WRK} is missing (apt-get install wrk): publish, poll and RSS benches skipped.`,
      ],
    }];
  }
  const out: BenchResult[] = [];
  if (!only || only === "publish") out.push(await benchPublish());
  if (!only || only === "poll") out.push(await benchPoll());
  if (!only || only === "rss") {
    out.push(await benchRss());
    out.push(await benchRss(RECOMMENDED_V8));
  }
  if (!only) out.push(await benchRestart());
  return out;
}
