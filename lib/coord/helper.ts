/**
 * The agent helper behind `git paw publish …`, `git paw inbox` and
 * `git paw done`: turn friendly flags into wire messages, validate them with
 * the broker's own schemas, send them, and keep a per-agent inbox cursor.
 * Identity and broker come from the worktree the command runs in (its
 * marker, `<git-dir>/paw-agent-id`, which start/recover rewrite when the
 * broker moves); `GIT_PAW_AGENT_ID` and `--agent` are only cross-checked
 * against it, so a stale environment (a CLI's shared daemon started by
 * another pane or session) can never publish under another id or to an old
 * broker. Without a marker (the main checkout, a plain clone) they come from
 * flags, then `GIT_PAW_AGENT_ID` / `GIT_PAW_BROKER_URL`.
 * `GIT_PAW_BROKER_TOKEN` adds a bearer token. Inside an agent worktree every
 * call also sends the agent's key (`X-Git-Paw-Agent-Key`, from
 * `<git-dir>/paw-agent-key`, which also holds the token when the broker
 * wants one): there it needs no environment at all. What cannot be delivered waits
 * in the worktree's outbox (lib/coord/outbox.ts) for the next call.
 * Needs `--allow-env`, `--allow-net=127.0.0.1`, `--allow-read`,
 * `--allow-write` (cursor) and `--allow-run=git` (to find the git dir).
 * @module
 */
import { join, resolve } from "node:path";
import { gitDirsFromLayout } from "../adapters/git_layout.ts";
import { AppError, UsageError } from "../core/errors.ts";
import {
  BrokerMessage,
  displayMessage,
  type IntentFile,
  intentPath,
  normaliseAgentId,
  parseMessage,
  type Region,
} from "../core/messages.ts";
import { gitTry as gitRaw } from "../adapters/git_run.ts";
import {
  AGENT_REFUSED_RETRY_MS,
  BROKER_TOKEN_ENV,
  BROKER_URL_ENV,
  type BrokerClient,
  brokerClient,
  type BrokerReply,
  BrokerReplyError,
  type InboxPage as ClientInboxPage,
  replyText,
} from "../broker/client.ts";

import { CURSOR_FILE, MARKER_FILE, readMarkerFile } from "./marker.ts";
import { readAgentKey, readKeyFile } from "./credentials.ts";

/**
 * Environment variable naming a key file (not the key) for helper calls
 * outside an agent worktree, e.g. the supervisor's
 * (`supervisorKeyPath()` in credentials.ts).
 */
const AGENT_KEY_FILE_ENV = "GIT_PAW_AGENT_KEY_FILE";
import {
  deliverThroughOutbox,
  newMsgId,
  type OutboxMessage,
  outboxPending,
  type OutboxReport,
  outcomeOfStatus,
} from "./outbox.ts";
export { CURSOR_FILE };
export { listArg, statusInput } from "./plain_status.ts";

/**
 * Who is speaking and to which broker; `gitDir` (the worktree's git dir)
 * when there is an outbox to use.
 */
export type Identity = {
  agentId: string;
  brokerUrl: string;
  token?: string;
  gitDir?: string;
  /** The agent's key (`X-Git-Paw-Agent-Key`), from its key file. */
  agentKey?: string;
};

/** Flags every helper command accepts. */
export type IdentityFlags = { agent?: string; broker?: string; token?: string };

/**
 * Resolve identity from flags, then the environment.
 * @throws {UsageError} when either is missing or malformed
 */
function resolveIdentity(
  flags: IdentityFlags,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Identity {
  const rawAgent = flags.agent ?? env("GIT_PAW_AGENT_ID");
  if (rawAgent === undefined || rawAgent.trim() === "") {
    throw new UsageError(
      "GIT_PAW_AGENT_ID is not set — run this inside a git-paw agent pane, or pass --agent <id>",
    );
  }
  const id = normaliseAgentId(rawAgent.trim());
  if (!id.ok) {
    throw new UsageError(
      `invalid agent id '${rawAgent}': ${
        id.error.body.detail ?? id.error.body.error
      }`,
    );
  }
  const brokerUrl = checkUrl(flags.broker ?? env(BROKER_URL_ENV));
  const token = flags.token ?? env(BROKER_TOKEN_ENV);
  return { agentId: id.id, brokerUrl, token: token || undefined };
}

/** The git dir of the worktree at `cwd`, or null outside one. */
async function worktreeGitDir(cwd: string): Promise<string | null> {
  // At a worktree's top (where panes run) the layout answers without git.
  const layout = await gitDirsFromLayout(resolve(cwd)).catch(() => null);
  if (layout) return layout.gitDir;
  const r = await gitRaw(cwd, ["rev-parse", "--absolute-git-dir"]).catch(
    () => null,
  );
  return r && r.code === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : null;
}

/**
 * Resolve identity for a command run in `cwd`: from the worktree's marker
 * when it has one (flags and `GIT_PAW_AGENT_ID` must agree with it; the
 * marker's broker URL wins over the environment's), else as
 * {@link resolveIdentity}. `gitDir` is set inside a git worktree.
 * @throws {AppError} `identity_mismatch` when the flag or env names another agent
 * @throws {UsageError} when identity or broker is missing or malformed
 */
export async function resolveIdentityAt(
  cwd: string,
  flags: IdentityFlags,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<Identity> {
  const gitDir = await worktreeGitDir(cwd);
  const marker = gitDir
    ? await readMarkerFile(join(gitDir, MARKER_FILE))
    : null;
  if (!gitDir || !marker) {
    const id = resolveIdentity(flags, env);
    // Outside an agent worktree (the supervisor's pane): the key file the
    // environment names (a path, never the key itself).
    const keyFile = env(AGENT_KEY_FILE_ENV);
    const cred = keyFile ? await readKeyFile(keyFile) : null;
    if (keyFile && !cred) {
      throw new UsageError(
        `${AGENT_KEY_FILE_ENV} names ${keyFile}, which holds no agent key`,
      );
    }
    return {
      ...id,
      ...(gitDir ? { gitDir } : {}),
      ...(cred ? { agentKey: cred.key } : {}),
      ...(!id.token && cred?.token ? { token: cred.token } : {}),
    };
  }
  const own = marker.agent_id;
  const claims: Array<[string, string | undefined]> = [
    ["--agent", flags.agent],
    ["GIT_PAW_AGENT_ID", env("GIT_PAW_AGENT_ID")],
  ];
  for (const [source, raw] of claims) {
    if (raw === undefined || raw.trim() === "") continue;
    const n = normaliseAgentId(raw.trim());
    if (!n.ok || n.id !== own) {
      throw new AppError(
        `this worktree belongs to agent '${own}' but ${source} says '${raw.trim()}' — nothing published`,
        "identity_mismatch",
      );
    }
  }
  const brokerUrl = checkUrl(
    flags.broker ?? marker.broker_url ?? env(BROKER_URL_ENV),
  );
  const cred = await readAgentKey(gitDir);
  const token = flags.token || env(BROKER_TOKEN_ENV) || cred?.token;
  return {
    agentId: own,
    brokerUrl,
    token: token || undefined,
    gitDir,
    ...(cred ? { agentKey: cred.key } : {}),
  };
}

function checkUrl(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === "") {
    throw new UsageError(
      "GIT_PAW_BROKER_URL is not set — run this inside a git-paw agent pane, or pass --broker <url>",
    );
  }
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new UsageError(
      `invalid broker URL '${raw}': expected http://host:port`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new UsageError(
      `invalid broker URL '${raw}': expected http://host:port`,
    );
  }
  return raw.trim().replace(/\/+$/, "");
}

/**
 * Parse `--region <path>:<kind>:<value>` (kind function|class|block|range,
 * range value `start-end`).
 * @throws {UsageError} on a malformed region
 */
function parseRegion(spec: string): { path: string; region: Region } {
  const m = /^(.+):(function|class|block|range):(.+)$/.exec(spec);
  if (!m) {
    throw new UsageError(
      `invalid --region '${spec}': expected <path>:<function|class|block|range>:<name|anchor|start-end>`,
    );
  }
  const [, path, kind, value] = m;
  switch (kind) {
    case "function":
    case "class":
      return { path, region: { kind, name: value } };
    case "block":
      return { path, region: { kind, anchor: value } };
    default: {
      const r = /^(\d+)-(\d+)$/.exec(value);
      if (!r) {
        throw new UsageError(
          `invalid --region '${spec}': a range is <start>-<end>, e.g. 10-40`,
        );
      }
      return {
        path,
        region: {
          kind: "range",
          start_line: Number(r[1]),
          end_line: Number(r[2]),
        },
      };
    }
  }
}

/** Intent files from `--files` and `--region` flags (regions grouped per path). */
export function intentFiles(files: string[], regions: string[]): IntentFile[] {
  const out: IntentFile[] = [];
  const byPath = new Map<string, Region[]>();
  for (const spec of regions) {
    const { path, region } = parseRegion(spec);
    if (!byPath.has(path)) byPath.set(path, []);
    byPath.get(path)!.push(region);
  }
  for (const f of files) {
    if (!byPath.has(f) && !out.some((o) => intentPath(o) === f)) out.push(f);
  }
  for (const [path, regs] of byPath) out.push({ path, regions: regs });
  return out;
}

/**
 * Validate `input` exactly as the broker would.
 * @throws {UsageError} with the broker's wording when it is invalid
 */
function validate(input: unknown): BrokerMessage {
  const r = parseMessage(input);
  if (!r.ok) {
    const b = r.error.body;
    const extra = [b.field ? `field ${b.field}` : "", b.detail ?? ""]
      .filter((s) => s !== "").join(": ");
    throw new UsageError(`${b.error}${extra ? ` (${extra})` : ""}`);
  }
  return r.message;
}

function unreachable(url: string, cause?: unknown): AppError {
  return new AppError(
    `broker at ${url} is not reachable — is the session running? (git paw status)`,
    "broker_unreachable",
    { cause },
  );
}

function brokerError(reply: BrokerReply, url: string): AppError {
  return new AppError(
    `broker at ${url} answered ${reply.status}: ${replyText(reply)}`,
    "broker_rejected",
  );
}

function client(id: Identity): BrokerClient {
  return brokerClient(id.brokerUrl, {
    token: id.token,
    ...(id.agentKey ? { agentKey: id.agentKey } : {}),
    // A helper command is one process for a call or two: no fetch start-up.
    oneShot: true,
  });
}

/** What {@link publishMessage} did besides publishing. */
export type PublishReport = {
  message: BrokerMessage;
  seq: number | null;
  /** Set when the message waits in the outbox instead (why). */
  queued?: string;
  /** Lines for stderr: earlier messages delivered or dropped now. */
  notes: string[];
};

/** Budget of one helper call for the outbox and its own message (ms). */
const HELPER_BUDGET_MS = 5000;

/** Lines about an outbox flush, for stderr. */
function outboxNotes(r: OutboxReport): string[] {
  const notes: string[] = [];
  if (r.flushed > 0) {
    notes.push(
      `note: delivered ${r.flushed} earlier message(s) from the outbox`,
    );
  }
  for (const d of r.dropped) {
    notes.push(`warning: the broker refused a queued message, dropped: ${d}`);
  }
  return notes;
}

/**
 * Validate and publish one message, with a fresh `msg_id` unless it has
 * one. Inside a worktree, what waits in its outbox goes first, and a
 * message the broker cannot take now (down, 5xx, timeout) is queued there.
 * @returns the broker's seq when it reports one
 * @throws {UsageError} invalid message; {@link AppError} unreachable (no
 *   outbox) / refused / lost (outbox full)
 */
export async function publishMessage(
  id: Identity,
  input: unknown,
): Promise<PublishReport> {
  const message = validate(input);
  message.msg_id ??= newMsgId();
  const c = client(id);
  if (!id.gitDir) {
    const reply = await c.publish(message).catch((e) => {
      throw unreachable(id.brokerUrl, e);
    });
    if (!reply.ok) throw brokerError(reply, id.brokerUrl);
    return { message, seq: seqOf(reply), notes: [] };
  }
  let seq: number | null = null;
  const report = await deliverThroughOutbox(
    id.gitDir,
    message as OutboxMessage,
    {
      budgetMs: HELPER_BUDGET_MS,
      sendTimeoutMs: HELPER_BUDGET_MS,
      send: async (m, timeoutMs) => {
        try {
          const reply = await c.publish(m, {
            timeoutMs,
            refusedRetryMs: AGENT_REFUSED_RETRY_MS,
          });
          if (m === message) seq = seqOf(reply);
          return outcomeOfStatus(reply.status, replyText(reply));
        } catch (e) {
          return { kind: "retry", detail: (e as Error).message };
        }
      },
    },
  );
  const notes = outboxNotes(report);
  const r = report.message;
  switch (r.kind) {
    case "refused":
      throw new AppError(
        `broker at ${id.brokerUrl} answered ${r.status}: ${r.detail}`,
        "broker_rejected",
      );
    case "lost":
      throw new AppError(
        `broker at ${id.brokerUrl}: message not sent and not kept (${r.detail})`,
        "broker_unreachable",
      );
    case "queued":
      return {
        message,
        seq: null,
        queued: `${r.detail} (${report.waiting} waiting)`,
        notes,
      };
    default:
      return { message, seq, notes };
  }
}

function seqOf(reply: BrokerReply): number | null {
  const j = reply.json as { seq?: unknown } | undefined;
  return typeof j?.seq === "number" ? j.seq : null;
}

/**
 * Deliver what waits in the worktree's outbox (nothing to do without one).
 * @returns lines for stderr
 */
export async function flushOutbox(id: Identity): Promise<string[]> {
  if (!id.gitDir || !(await outboxPending(id.gitDir))) return [];
  const c = client(id);
  const report = await deliverThroughOutbox(id.gitDir, null, {
    budgetMs: HELPER_BUDGET_MS,
    sendTimeoutMs: HELPER_BUDGET_MS,
    send: async (m, timeoutMs) => {
      try {
        const reply = await c.publish(m, { timeoutMs });
        return outcomeOfStatus(reply.status, replyText(reply));
      } catch (e) {
        return { kind: "retry", detail: (e as Error).message };
      }
    },
  });
  return outboxNotes(report);
}

/** A message as returned by `/messages`, with its seq when the broker sends one. */
export type InboxMessage = Record<string, unknown> & { seq?: number };

/** One `/messages` answer. */
export type InboxPage = { messages: InboxMessage[]; last_seq: number };

/**
 * Read the inbox after `since`; `wait` long-polls up to that many seconds.
 * @throws {AppError} unreachable / refused / malformed answer
 */
export async function fetchInbox(
  id: Identity,
  since: number,
  wait = 0,
): Promise<InboxPage> {
  let page: ClientInboxPage;
  try {
    page = await client(id).poll(id.agentId, { since, wait });
  } catch (e) {
    if (!(e instanceof BrokerReplyError)) throw unreachable(id.brokerUrl, e);
    if (!e.reply.ok) throw brokerError(e.reply, id.brokerUrl);
    throw new AppError(e.message, "broker_bad_reply", { cause: e });
  }
  return { messages: page.messages as InboxMessage[], last_seq: page.last_seq };
}

/** One or more lines for one inbox message (human output). Pure. */
export function formatInboxMessage(m: InboxMessage): string {
  const seq = typeof m.seq === "number" ? `#${m.seq} ` : "";
  const { seq: _drop, ...rest } = m;
  const r = BrokerMessage.safeParse(rest);
  if (!r.success) return `${seq}${JSON.stringify(rest)}`;
  const msg = r.data;
  const lines = [`${seq}${displayMessage(msg)}`];
  switch (msg.type) {
    case "agent.feedback":
      for (const e of msg.payload.errors) lines.push(`    - ${e}`);
      break;
    case "agent.artifact":
      if (msg.payload.modified_files.length) {
        lines.push(`    files: ${msg.payload.modified_files.join(", ")}`);
      }
      break;
    case "agent.intent":
      lines.push(
        `    files: ${
          msg.payload.files.map((f) =>
            typeof f === "string" || !f.regions?.length
              ? intentPath(f)
              : `${f.path} (${
                f.regions.map((r) =>
                  r.kind === "range"
                    ? `lines ${r.start_line}-${r.end_line}`
                    : r.kind === "block"
                    ? `block ${r.anchor}`
                    : `${r.kind} ${r.name}`
                ).join(", ")
              })`
          ).join(", ")
        }`,
      );
      break;
    case "agent.status":
      if (msg.payload.message) lines.push(`    ${msg.payload.message}`);
      break;
    case "agent.learning":
      if (msg.payload.body.trim()) lines.push(`    ${msg.payload.body.trim()}`);
      break;
    case "agent.advanced-main":
      if (msg.summary) lines.push(`    ${msg.summary}`);
      break;
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Cursor

type CursorFile = { version: 1; cursors: Record<string, number> };

function cursorKey(id: Identity): string {
  return `${id.brokerUrl} ${id.agentId}`;
}

/**
 * Where the inbox cursor lives: the worktree's git dir when `cwd` is inside
 * a git worktree, else `$XDG_STATE_HOME/git-paw/` (`~/.local/state`).
 */
export async function cursorPath(cwd: string): Promise<string> {
  const r = await gitRaw(cwd, ["rev-parse", "--absolute-git-dir"]).catch(
    () => null,
  );
  if (r && r.code === 0 && r.stdout.trim() !== "") {
    return join(r.stdout.trim(), CURSOR_FILE);
  }
  const state = Deno.env.get("XDG_STATE_HOME") ||
    join(Deno.env.get("HOME") ?? ".", ".local", "state");
  return join(state, "git-paw", "inbox-cursor.json");
}

async function readCursorFile(path: string): Promise<CursorFile> {
  try {
    const j = JSON.parse(await Deno.readTextFile(path));
    if (j && typeof j === "object" && typeof j.cursors === "object") {
      return { version: 1, cursors: j.cursors };
    }
  } catch { /* missing or garbled: start over */ }
  return { version: 1, cursors: {} };
}

/** The stored cursor for this agent and broker (0 when none). */
export async function readCursor(path: string, id: Identity): Promise<number> {
  const v = (await readCursorFile(path)).cursors[cursorKey(id)];
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : 0;
}

/** Store the cursor (atomically: temp file + rename). */
export async function writeCursor(
  path: string,
  id: Identity,
  seq: number,
): Promise<void> {
  const file = await readCursorFile(path);
  file.cursors[cursorKey(id)] = seq;
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(file) + "\n");
  await Deno.rename(tmp, path);
}
