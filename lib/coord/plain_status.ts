/**
 * `git paw publish status …` for the common case, without zod, `node:path`,
 * git or `fetch` (an agent reports on every step; the full path's module
 * graph cost ~70 ms per call): at an agent worktree's top whose git layout
 * and marker read plainly, with nothing waiting in its outbox, the status
 * is built, checked with the broker's zod-free validator
 * (lib/core/broker_fastpath.ts) and sent, and when the broker cannot take
 * it now it is queued in the outbox as the full path queues it. Anything
 * else (no marker, an odd layout or marker, a flag or `GIT_PAW_AGENT_ID`
 * that is not the marker's agent verbatim, a bad broker URL, a message the
 * validator is not sure about, an outbox to flush first) returns null
 * before anything is sent, and the caller runs the full path
 * (lib/coord/helper.ts), which decides and words every error.
 * tests/coord/plain_status_test.ts holds it to the full path.
 *
 * Needs `--allow-read`, `--allow-env`, `--allow-net` (the broker);
 * `--allow-write` and `--allow-run` only when it queues.
 * @module
 */
import { fastParseStatus } from "../core/broker_fastpath.ts";
import type { StatusMessage } from "../core/messages.ts";
import { AppError } from "../core/errors.ts";
import { readAgentKeySync } from "../adapters/cli_state.ts";
import {
  AGENT_REFUSED_RETRY_MS,
  BROKER_TOKEN_ENV,
  BROKER_URL_ENV,
  brokerClient,
  type BrokerReply,
  replyText,
} from "../broker/client.ts";
import { MARKER_FILE } from "./marker_file.ts";
import { plainGitDir, plainJoin as join } from "./plain_layout.ts";
import {
  newMsgId,
  OUTBOX_FILE,
  type OutboxMessage,
  outcomeOfStatus,
  type SendOutcome,
} from "./outbox_plain.ts";
import type { Identity, IdentityFlags, PublishReport } from "./helper.ts";

/** The options of `publish status` (as commander hands them). */
export type StatusOptions = IdentityFlags & {
  json?: boolean;
  message?: string;
  files?: string[];
  phase?: string;
  cli?: string;
};

/** Split comma lists and repeated flags into one clean list. */
export function listArg(values: string | string[] | undefined): string[] {
  if (values === undefined) return [];
  const all = Array.isArray(values) ? values : [values];
  return all.flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) =>
    s !== ""
  );
}

/** The `agent.status` wire message `publish status` builds. */
export function statusInput(
  agentId: string,
  status: string,
  o: StatusOptions,
): unknown {
  return {
    type: "agent.status",
    agent_id: agentId,
    payload: {
      status,
      modified_files: listArg(o.files),
      message: o.message ?? null,
      phase: o.phase ?? null,
      cli: o.cli ?? null,
    },
  };
}

// ---------------------------------------------------------------------------
// The marker, checked as `AgentMarker.safeParse` (lib/coord/marker.ts)
// checks it.

/** The keys of `AgentMarker` this check knows (a test compares). */
export const MARKER_KEYS: readonly string[] = [
  "version",
  "agent_id",
  "expected_branch",
  "broker_url",
  "strict_branch_guard",
  "timestamp",
  "repo",
  "agents_md",
  "hook_paths",
  "cli_files",
  "gemini_trust",
];

/** The keys of `CliFileRecord` this check knows (a test compares). */
export const CLI_FILE_RECORD_KEYS: readonly string[] = [
  "path",
  "kind",
  "created",
  "created_dirs",
  "hidden",
  "patch",
  "backup",
  "written_sha256",
  "line",
];

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isStr = (v: unknown): v is string => typeof v === "string";
const optStr = (v: unknown) => v === undefined || isStr(v);
const optStrs = (v: unknown) =>
  v === undefined || (Array.isArray(v) && v.every(isStr));

function isCliFileRecord(v: unknown): boolean {
  return isObj(v) && isStr(v.path) &&
    ["import", "json", "toml", "own"].includes(v.kind as string) &&
    typeof v.created === "boolean" && optStrs(v.created_dirs) &&
    ["exclude", "skip-worktree"].includes(v.hidden as string) &&
    optStr(v.backup) && isStr(v.written_sha256) && optStr(v.line);
}

/**
 * The marker's agent id and broker URL when `v` is a valid marker (what
 * `AgentMarker.safeParse` accepts), else null. Pure.
 */
export function plainMarker(
  v: unknown,
): { agentId: string; brokerUrl: string | null } | null {
  if (!isObj(v)) return null;
  const am = v.agents_md;
  const gt = v.gemini_trust;
  const ok = v.version === 1 && isStr(v.agent_id) &&
    isStr(v.expected_branch) &&
    (v.broker_url === null || isStr(v.broker_url)) &&
    typeof v.strict_branch_guard === "boolean" && isStr(v.timestamp) &&
    isStr(v.repo) && isObj(am) &&
    ["skip-worktree", "exclude", "none"].includes(am.mode as string) &&
    typeof am.created === "boolean" && optStrs(v.hook_paths) &&
    (v.cli_files === undefined ||
      (Array.isArray(v.cli_files) && v.cli_files.every(isCliFileRecord))) &&
    (gt === undefined || (isObj(gt) && isStr(gt.file) && isStr(gt.path)));
  return ok
    ? {
      agentId: v.agent_id as string,
      brokerUrl: v.broker_url as string | null,
    }
    : null;
}

/** `checkUrl` of lib/coord/helper.ts; null where it throws. */
function plainUrl(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === "") return null;
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return null;
  return raw.trim().replace(/\/+$/, "");
}

/** What {@link plainIdentity} needs from the process (tests inject). */
export type PlainContext = {
  cwd: string;
  env: (name: string) => string | undefined;
};

/**
 * `resolveIdentityAt(cwd, flags)` of lib/coord/helper.ts for an agent
 * worktree's top with a plain layout and marker, when every claim names the
 * marker's agent verbatim; null where the full path must decide.
 */
export function plainIdentity(
  flags: IdentityFlags,
  ctx: PlainContext,
): Identity | null {
  const gitDir = plainGitDir(ctx.cwd, ctx.env);
  if (gitDir === null) return null;
  let marker;
  try {
    marker = plainMarker(
      JSON.parse(Deno.readTextFileSync(join(gitDir, MARKER_FILE))),
    );
  } catch {
    return null;
  }
  if (marker === null) return null;
  const own = marker.agentId;
  for (const raw of [flags.agent, ctx.env("GIT_PAW_AGENT_ID")]) {
    if (raw === undefined || raw.trim() === "") continue;
    if (raw.trim() !== own) return null;
  }
  const brokerUrl = plainUrl(
    flags.broker ?? marker.brokerUrl ?? ctx.env(BROKER_URL_ENV),
  );
  if (brokerUrl === null) return null;
  const cred = readAgentKeySync(gitDir);
  const token = flags.token || ctx.env(BROKER_TOKEN_ENV) || cred?.token;
  return {
    agentId: own,
    brokerUrl,
    token: token || undefined,
    gitDir,
    ...(cred ? { agentKey: cred.key } : {}),
  };
}

/** Budget of one helper call (ms), as `HELPER_BUDGET_MS` of helper.ts. */
const BUDGET_MS = 5000;

function outboxSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

function seqOf(reply: BrokerReply): number | null {
  const j = reply.json as { seq?: unknown } | undefined;
  return typeof j?.seq === "number" ? j.seq : null;
}

/**
 * Publish `status` the plain way; null (nothing sent) when the full path
 * must. Resolves to the identity and what `publishMessage` reports.
 * @throws {AppError} `broker_rejected` (refused) or `broker_unreachable`
 *   (not sent and not kept), worded as `publishMessage` words them
 */
export async function plainPublishStatusMessage(
  status: string,
  o: StatusOptions,
  ctx: PlainContext,
): Promise<{ id: Identity; report: PublishReport } | null> {
  const id = plainIdentity(o, ctx);
  if (id === null || id.gitDir === undefined) return null;
  const parsed = fastParseStatus(statusInput(id.agentId, status, o));
  if (parsed === null || !parsed.ok) return null;
  const message = parsed.message as StatusMessage & { msg_id?: string };
  const started = Date.now();
  // Something waits in the outbox: the full path delivers it first.
  if (outboxSize(join(id.gitDir, OUTBOX_FILE)) > 0) return null;
  message.msg_id ??= newMsgId();
  const c = brokerClient(id.brokerUrl, {
    token: id.token,
    ...(id.agentKey ? { agentKey: id.agentKey } : {}),
    oneShot: true,
  });
  let seq: number | null = null;
  let r: SendOutcome;
  try {
    const timeoutMs = Math.max(
      1,
      Math.min(BUDGET_MS, BUDGET_MS - (Date.now() - started)),
    );
    const reply = await c.publish(message, {
      timeoutMs,
      refusedRetryMs: AGENT_REFUSED_RETRY_MS,
    });
    seq = seqOf(reply);
    r = outcomeOfStatus(reply.status, replyText(reply));
  } catch (e) {
    r = { kind: "retry", detail: (e as Error).message };
  }
  const done = (report: PublishReport) => ({ id, report });
  switch (r.kind) {
    case "delivered":
      return done({ message, seq, notes: [] });
    case "refused":
    case "denied":
      throw new AppError(
        `broker at ${id.brokerUrl} answered ${r.status}: ${r.detail}`,
        "broker_rejected",
      );
  }
  // The broker cannot take it now: into the outbox, as the full path does.
  const { queueUndelivered } = await import("./outbox.ts");
  const q = await queueUndelivered(
    id.gitDir,
    message as OutboxMessage,
    r.detail,
  );
  if (q.message.kind === "queued") {
    return done({
      message,
      seq: null,
      queued: `${q.message.detail} (${q.waiting} waiting)`,
      notes: [],
    });
  }
  throw new AppError(
    `broker at ${id.brokerUrl}: message not sent and not kept (${
      q.message.kind === "lost" ? q.message.detail : r.detail
    })`,
    "broker_unreachable",
  );
}
