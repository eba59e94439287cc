/**
 * The broker on a socket: {@link serveBroker} opens and replays the session
 * store, seeds agents, builds the request handler
 * ({@link createBrokerHandler}, handler.ts), puts it on `Deno.serve` (or an
 * early-bound server), starts the plugins, and says whose a busy port is.
 * Exported as `startBroker` too.
 *
 * Permissions: `--allow-net` (bind address), `--allow-read`/`--allow-write`
 * on the data dir.
 * @module
 */
import { generateToken, isLoopback } from "./token.ts";
import type { EarlyServer } from "./early_listen.ts";
import type {
  AgentCredentials,
  AgentStatusEntry,
  Broker,
  BrokerPlugin,
  LogEntry,
  WatchTarget,
} from "./api.ts";
import { type BrokerStore, openStore } from "./store.ts";
import {
  snapshot,
  type StoredEntry,
  watchTargets,
} from "../core/broker_state.ts";
import { normaliseAgentId } from "../core/messages.ts";
import { AppError } from "../core/errors.ts";
import { describeProbe, probeBroker, type ProbeResult } from "./probe.ts";
import {
  type BrokerHandler,
  type BrokerLimits,
  type BrokerLoad,
  createBrokerHandler,
  MAX_BODY_BYTES,
  MAX_WAIT_SECONDS,
  TOKEN_COOKIE,
  TOKEN_PATTERN,
} from "./handler.ts";

export { MAX_BODY_BYTES, MAX_WAIT_SECONDS, TOKEN_COOKIE };

/** Options for {@link serveBroker}. */
export type StartBrokerOptions = {
  /** TCP port; 0 lets the OS pick. */
  port: number;
  /** Bind address. Default `127.0.0.1`. */
  bind?: string;
  /** Where `<session>.jsonl` and `<session>.broker.log` live. */
  dataDir: string;
  /** Session name, reported by `/status` and used in file names. */
  session: string;
  /** Canonical path of the session's repo, reported by `/status`. */
  repo?: string;
  /** Bearer token; required (generated if absent) beyond loopback. */
  token?: string;
  plugins?: BrokerPlugin[];
  /**
   * Called once the broker answers requests, before the plugins start (their
   * replay of a long log runs while `/status` already answers).
   */
  onServing?: (broker: RunningBroker) => void;
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
  /** Bounds on open requests, long polls and slow bodies (handler.ts). */
  limits?: Partial<BrokerLimits>;
  /**
   * Agent keys: agent-attributed writes need the speaker's
   * `X-Git-Paw-Agent-Key` (handler.ts). Absent: open (the original's wire).
   */
  credentials?: AgentCredentials;
};

/** A running broker as returned by {@link serveBroker}. */
export type RunningBroker = Broker & {
  /** The bearer token in force, if any (generated when binding wide). */
  readonly token: string | undefined;
  /** Path of the JSONL log. */
  readonly logPath: string;
  /** Path of the human-readable log. */
  readonly humanLogPath: string;
  /** Requests and long polls open right now. */
  load(): BrokerLoad;
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

/**
 * Start a broker: open and replay the session log, seed agents, listen, start
 * plugins.
 *
 * @throws {BrokerPortError} when the port is held by this session's broker
 *   (`probe === "ours"`: reattach to `url`), another session's broker, a
 *   foreign server, or a stuck listener.
 */
export async function serveBroker(
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
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    throw new AppError(
      "Cannot start the broker: --token may only contain letters, digits and . _ ~ + / - (then = padding)",
    );
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

  // ---- Listen (the handler is built once the port is known) ----

  const displayHost = hostPart(bind);
  let handler: BrokerHandler | null = null;
  const serve = (req: Request): Promise<Response> => handler!(req);
  let server: Deno.HttpServer;
  const onError = (e: unknown) => {
    warn(`error: broker request failed: ${(e as Error).message}`);
    return new Response(JSON.stringify({ error: "internal error" }), {
      status: 500,
      headers: { "content-type": "application/json" },
    });
  };
  try {
    if (opts.early) {
      server = opts.early.server;
    } else {
      // Deno.serve binds synchronously: a busy port throws here.
      server = Deno.serve({
        port: opts.port,
        hostname: bind,
        onListen: () => {},
        onError,
      }, serve);
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
  const port = (server.addr as Deno.NetAddr).port;
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
    publish: (input) => handler!.publish(input),
    lastSeq: () => store.durableSeq,
    logSince(since: number, limit?: number): Promise<LogEntry[]> {
      return Promise.resolve(
        store.entries(store.logSeqs(since, limit ?? Infinity)).map(toLogEntry),
      );
    },
    agents: (): AgentStatusEntry[] => snapshot(store.state, now()),
    watchTargets: (): WatchTarget[] => watchTargets(store.state),
    watch: (target: WatchTarget) => handler!.watch(target),
    subscribe: (fn, opts) => handler!.subscribe(fn, opts),
    checkSpeaker: (req, ids) => handler!.checkSpeaker(req, ids),
    load: () => handler!.load(),
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
        // Release long polls first so they answer before the socket closes.
        handler!.close();
        await new Promise((r) => setTimeout(r, 0));
        await server.shutdown();
        await store.close();
      })();
      return closing;
    },
  };

  handler = createBrokerHandler({
    store,
    now,
    session: opts.session,
    repo: opts.repo,
    token,
    allowedHosts: loopback ? loopbackHosts(displayHost, port) : undefined,
    hostHint: `http://127.0.0.1:${port}`,
    plugins: opts.plugins,
    broker,
    verifyOnCommitNudge: opts.verifyOnCommitNudge,
    warn,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
  // Requests held by an early server are answered from here on.
  opts.early?.attach(serve, onError);
  opts.onServing?.(broker);

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

export { serveBroker as startBroker };

/** Host header values a loopback broker on `port` accepts. */
function loopbackHosts(displayHost: string, port: number): string[] {
  const names = new Set(["127.0.0.1", "localhost", "[::1]", displayHost]);
  return [...names].flatMap((n) =>
    [n, `${n}:${port}`].map((x) => x.toLowerCase())
  );
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
  const used = `port ${port} is used by ${describeProbe(probe)}`;
  switch (probe) {
    case "ours":
      return new BrokerPortError(
        `a broker for session "${session}" is already running at ${url} — use it, or stop it first`,
        probe,
        url,
      );
    case "timeout":
      return new BrokerPortError(
        `${used} — check for stuck processes on this port, or pick another (--port 0)`,
        probe,
        url,
      );
    default:
      return new BrokerPortError(
        `${used} — pick another port (--port N, or --port 0 for a free one)`,
        probe,
        url,
      );
  }
}
