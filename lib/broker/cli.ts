/**
 * `git-paw broker`: run the coordination broker in the foreground until
 * SIGINT/SIGTERM. The first stdout line carries its URL. Which plugins it
 * runs (watcher, conflicts, learnings, web page) is the entry layer's
 * choice ({@link BrokerCommandWiring}, wired in `lib/cli/`): this module
 * knows no session, coordination or dashboard code.
 * @module
 */
import { join } from "node:path";
import type { Command } from "commander";
import type { AgentCredentials, BrokerPlugin } from "./api.ts";
import { UsageError } from "../core/errors.ts";
import { eprintln, println } from "../output.ts";

/** Default broker port (`[broker] port`, docs/REFERENCE.md, "Configuration"). */
export const DEFAULT_BROKER_PORT = 9119;

/** `$XDG_DATA_HOME/git-paw/broker`, else `~/.local/share/git-paw/broker`. */
function defaultBrokerDataDir(): string {
  const xdg = Deno.env.get("XDG_DATA_HOME");
  if (xdg && xdg.trim() !== "") return join(xdg, "git-paw", "broker");
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
  return join(home, ".local", "share", "git-paw", "broker");
}

/** Options of `git-paw broker` after parsing. */
export type BrokerCommandOptions = {
  port: string;
  bind: string;
  dataDir?: string;
  session: string;
  token?: string;
  /** `--require-credentials`: agent-attributed writes need the agent's key. */
  requireCredentials?: boolean;
};

/** Parse and check a `--port` value. */
function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n > 65535) {
    throw new UsageError(
      `invalid --port "${value}": expected 0-65535 (0 picks a free port)`,
    );
  }
  return n;
}

/** What the entry layer plugs into `git-paw broker`. */
export type BrokerCommandWiring = {
  /** The plugins of a standalone broker for `session` (started in `cwd`). */
  plugins?: (ctx: { session: string; cwd: string }) => Promise<BrokerPlugin[]>;
  /**
   * The keys a `--require-credentials` broker checks (started in `cwd`,
   * its supervisor's key kept in `dataDir`), with lines saying where they
   * are for stderr.
   */
  credentials?: (
    ctx: { session: string; cwd: string; dataDir: string },
  ) => Promise<{ credentials: AgentCredentials; notes: string[] }>;
};

/** Run the broker until a signal arrives; resolves after a clean shutdown. */
async function runBrokerCommand(
  o: BrokerCommandOptions,
  wiring: BrokerCommandWiring = {},
): Promise<void> {
  const port = parsePort(o.port);
  if (o.session.trim() === "") {
    throw new UsageError("--session must not be blank");
  }
  const dataDir = o.dataDir ?? defaultBrokerDataDir();
  if (o.dataDir === undefined) {
    // Our own dir: owner-only, also when an older version made it 0755. A
    // --data-dir the user chose keeps its mode (new ones are made 0700).
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dataDir, 0o700).catch(() => {});
  }
  if (o.requireCredentials && !wiring.credentials) {
    throw new UsageError("--require-credentials is not available here");
  }
  const [{ serveBroker }, plugins, keys] = await Promise.all([
    import("./server.ts"),
    wiring.plugins?.({ session: o.session, cwd: Deno.cwd() }) ?? [],
    o.requireCredentials
      ? wiring.credentials!({ session: o.session, cwd: Deno.cwd(), dataDir })
      : null,
  ]);
  // Said as soon as it answers: the plugins' replay of a long log
  // runs after this.
  const announce = (
    broker: {
      url: string;
      session: string;
      logPath: string;
      token: string | undefined;
    },
  ) => {
    println(
      `git-paw broker listening on ${broker.url} (session "${broker.session}", log ${broker.logPath})`,
    );
    for (const line of keys?.notes ?? []) eprintln(line);
    if (broker.token !== undefined && o.token === undefined) {
      println(`token: ${broker.token}`);
      eprintln(
        `note: bound beyond loopback; clients must send "Authorization: Bearer ${broker.token}"`,
      );
      println(
        `web dashboard: ${broker.url}/?token=${
          encodeURIComponent(broker.token)
        }`,
      );
    } else if (broker.token !== undefined) {
      eprintln(
        `note: open the web dashboard as ${broker.url}/?token=<your token>`,
      );
    }
  };
  // Listened for before the plugins' replay of a long log starts: a stop
  // meanwhile still closes cleanly (the log flushed, a checkpoint written).
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let stop = () => {};
  let signalled = false;
  // Serving but still starting its plugins: a stop closes it at once (the
  // plugins' replay then ends with it).
  let starting: { close(): Promise<void> } | null = null;
  const onSignal = () => {
    signalled = true;
    void starting?.close();
    stop();
  };
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      resolve();
    };
    for (const s of signals) Deno.addSignalListener(s, onSignal);
  });
  let broker: Awaited<ReturnType<typeof serveBroker>>;
  try {
    broker = await serveBroker({
      port,
      bind: o.bind,
      dataDir,
      session: o.session,
      token: o.token,
      plugins,
      onServing: (b) => {
        starting = b;
        announce(b);
      },
      ...(keys ? { credentials: keys.credentials } : {}),
    });
  } catch (e) {
    stop();
    if (signalled && starting) {
      // Stopped while the plugins started: closed, nothing lost.
      await (starting as { close(): Promise<void> }).close();
      eprintln("git-paw broker: stopped while starting; log flushed");
      return;
    }
    throw e;
  }
  starting = null;
  await stopped;
  eprintln("git-paw broker: shutting down");
  await broker.close();
  eprintln(`git-paw broker: stopped; log flushed to ${broker.logPath}`);
}

/** Add this area's subcommands to `program`, with their plugins. */
export function registerBrokerCommands(
  program: Command,
  wiring: BrokerCommandWiring = {},
): void {
  program.command("broker")
    .description(
      "Run the coordination broker in the foreground (Ctrl-C to stop)",
    )
    .option(
      "--port <n>",
      "TCP port (0 picks a free one)",
      String(DEFAULT_BROKER_PORT),
    )
    .option("--bind <addr>", "address to bind", "127.0.0.1")
    .option(
      "--data-dir <dir>",
      "where the session log lives (default $XDG_DATA_HOME/git-paw/broker)",
    )
    .option("--session <name>", "session name reported by /status", "default")
    .option(
      "--token <token>",
      "require Authorization: Bearer <token> (generated when binding beyond loopback)",
    )
    .option(
      "--require-credentials",
      "take an agent's messages only with its key (X-Git-Paw-Agent-Key); default: open, as the original",
    )
    .action(async (o: BrokerCommandOptions) => {
      await runBrokerCommand(o, wiring);
    });
}
