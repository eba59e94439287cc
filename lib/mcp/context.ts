/**
 * What every MCP tool works on: the repo it serves, how to read its config
 * and session, the broker of the active session, and the log. Built once by
 * {@link createContext}; config and session are read again on every call,
 * so a session started after the server is seen.
 * @module
 */
import { basename } from "node:path";
import type { Config } from "../core/config.ts";
import type { Receipt } from "../core/session.ts";
import { brokerUrlOf } from "../core/broker_url.ts";

/** Reads the repo's merged config. Throws on a malformed config file. */
export type ConfigLoader = (repo: string) => Promise<Config>;
/** Finds the repo's session receipt (any status), or null. */
export type SessionFinder = (repo: string) => Promise<Receipt | null>;

/** A broker to talk to: its URL and, when it has one, its bearer token. */
export type BrokerLink = { url: string; token?: string };

/** The context handed to every tool. */
export type McpContext = {
  /** Working tree served (the checkout `--repo` / the cwd is in). */
  root: string;
  /** Main checkout: config, session receipt and learnings live there. */
  repo: string;
  /** Project name (basename of the main checkout). */
  project: string;
  /** The merged config; throws (an MCP error) when a file is malformed. */
  config(): Promise<Config>;
  /** The session receipt of the repo, or null. */
  session(): Promise<Receipt | null>;
  /** The broker of the repo's session while it is active, else null. */
  broker(): Promise<BrokerLink | null>;
  /** Wall clock, ms since the epoch. */
  now(): number;
  /** A diagnostic line (stderr and the log file, never stdout). */
  log(line: string): void;
};

/** Inputs of {@link createContext}. */
export type ContextOptions = {
  root: string;
  repo: string;
  loadConfig: ConfigLoader;
  findSession: SessionFinder;
  log: (line: string) => void;
  now?: () => number;
};

/**
 * The broker URL of a receipt: only while the session is `active`, with a
 * wildcard bind (`0.0.0.0`, `::`) reached on loopback.
 */
export function brokerOfReceipt(r: Receipt | null): BrokerLink | null {
  if (!r || r.status !== "active" || !r.broker_port) return null;
  let bind = r.broker_bind ?? "127.0.0.1";
  if (bind === "" || bind === "0.0.0.0") bind = "127.0.0.1";
  if (bind === "::") bind = "::1";
  return {
    url: brokerUrlOf(bind, r.broker_port),
    ...(r.broker_token ? { token: r.broker_token } : {}),
  };
}

/** Build the tools' context. */
export function createContext(o: ContextOptions): McpContext {
  const session = async () => {
    try {
      return await o.findSession(o.repo);
    } catch (e) {
      o.log(`cannot read the session receipt: ${(e as Error).message}`);
      return null;
    }
  };
  return {
    root: o.root,
    repo: o.repo,
    project: basename(o.repo),
    config: () => o.loadConfig(o.repo),
    session,
    broker: async () => brokerOfReceipt(await session()),
    now: o.now ?? (() => Date.now()),
    log: o.log,
  };
}
