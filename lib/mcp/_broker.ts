/**
 * Read-only broker calls the MCP tools make: the whole `/log` (paged; the
 * broker client has no call for it) and `/status` (through the broker
 * client). Every failure is `null`: without a broker the tools answer with
 * empty results. Needs `--allow-net`.
 * @module
 */
import type { LogEntry } from "../core/broker_types.ts";
import { BrokerMessage } from "../core/messages.ts";
import { brokerClient } from "../broker/client.ts";
import type { BrokerLink } from "./context.ts";

const PAGE = 5000;
const TIMEOUT_MS = 3000;

async function getJson(b: BrokerLink, path: string): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (b.token) headers.authorization = `Bearer ${b.token}`;
  const res = await fetch(`${b.url}${path}`, {
    headers,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${path}: HTTP ${res.status}`);
  }
  return await res.json();
}

/** Every log entry the broker holds (oldest first), or null when unreachable. */
export async function fetchLog(
  b: BrokerLink,
  log: (line: string) => void,
): Promise<LogEntry[] | null> {
  const out: LogEntry[] = [];
  let since = 0;
  try {
    for (;;) {
      const j = await getJson(b, `/log?since=${since}&limit=${PAGE}`) as {
        entries?: unknown[];
        last_seq?: number;
      };
      const entries = Array.isArray(j.entries) ? j.entries : [];
      for (const raw of entries) {
        const e = raw as Partial<LogEntry>;
        const m = BrokerMessage.safeParse(e.message);
        if (
          m.success && typeof e.seq === "number" &&
          typeof e.timestamp_unix_secs === "number"
        ) {
          out.push({
            seq: e.seq,
            timestamp_unix_secs: e.timestamp_unix_secs,
            message: m.data,
          });
        }
      }
      const last = typeof j.last_seq === "number" ? j.last_seq : since;
      if (entries.length < PAGE || last <= since) return out;
      since = last;
    }
  } catch (e) {
    log(`broker ${b.url} unreachable: ${(e as Error).message}`);
    return null;
  }
}

/** One agent row of `GET /status`. */
export type StatusAgent = {
  agent_id: string;
  cli: string | null;
  status: string;
  last_seen_seconds: number;
};

/** The `agents` of `GET /status`, or null when unreachable. */
export async function fetchStatusAgents(
  b: BrokerLink,
  log: (line: string) => void,
): Promise<StatusAgent[] | null> {
  try {
    const reply = await brokerClient(b.url, { token: b.token }).status({
      timeoutMs: TIMEOUT_MS,
    });
    if (!reply.ok) throw new Error(`/status: HTTP ${reply.status}`);
    const agents = (reply.json as { agents?: unknown } | undefined)?.agents;
    return Array.isArray(agents) ? agents as StatusAgent[] : [];
  } catch (e) {
    log(`broker ${b.url} unreachable: ${(e as Error).message}`);
    return null;
  }
}
