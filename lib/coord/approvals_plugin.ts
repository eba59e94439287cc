/**
 * The approval queue in the broker (a {@link BrokerPlugin}). A CLI's hook
 * (`__cli-event … --approvals queue`, lib/coord/cli_event.ts) asks
 * `POST /approvals` about a tool call; the policy
 * (lib/core/approval_policy.ts) allows or denies it at once, or it becomes
 * a pending approval that a person (`git paw approve|deny`, the TUI, the
 * web page) or the supervisor decides, or that the timeout denies. Every
 * request and decision is an entry of the broker's durable log
 * (`approval.request`, whose seq is the id, and `approval.decision`), so a
 * broker restart keeps pending requests pending (and their timeout
 * running); a decision applies once (a second one is a 409).
 *
 * In `pane` mode the CLI's own prompt decides: `POST /approvals` answers
 * `pass`, and a `needs_input` status from a hook or the screen detector is
 * recorded as a request "asked in the pane", answered when the agent's next
 * status comes.
 *
 * Routes (writes need the session token when the broker has one, and are
 * same-origin only: lib/broker/handler.ts; a browser must also send
 * `X-Git-Paw-Csrf: 1`):
 * - `POST /approvals` `{agent_id, cli, tool, input, cwd, worktree?}` →
 *   `{decision: "allow"|"deny"|"pass"|"pending", id?, by?, reason?, timeout_seconds}`
 * - `GET /approvals[?pending=1][&limit=N][&agent=ID]` → `{mode, approvals: [record…]}`
 * - `GET /approvals/:id[?wait=S]` → the record (long-polls up to S ≤ 60 s while pending)
 * - `POST /approvals/:id/approve` / `POST /approvals/:id/deny` `{reason?, by?}`
 *   → the decided record; 404 unknown, 409 already decided or waiting in a pane.
 *
 * Needs `--allow-read` (paths resolved through symlinks).
 * @module
 */
import type { Context, Hono } from "hono";
import type { Broker, BrokerPlugin, LogEntry } from "../broker/api.ts";
import {
  type ApprovalPolicy,
  approvalSubject,
  decideApproval,
  policyPaths,
  subjectText,
} from "../core/approval_policy.ts";
import {
  applyApprovalEntry,
  type ApprovalRecord,
  type ApprovalsState,
  createApprovalsState,
  decisionMessage,
  openPaneRequest,
  pendingApprovals,
  registerApprovals,
  timeoutReason,
} from "../core/approvals.ts";
import type { ApprovalRequestMessage } from "../core/messages.ts";
import { normaliseAgentId } from "../core/messages.ts";
import { NEEDS_INPUT_LABEL } from "../core/broker_state.ts";
import { resolvePolicyPaths } from "../adapters/fs.ts";
import { PAGE_WRITE_HEADER } from "../broker/handler.ts";
import {
  type LooseObject,
  looseObject,
  looseText,
} from "../core/loose_json.ts";

/** Log entries per page of the start-up replay. */
const REPLAY_PAGE = 2000;

/** Header a browser must send with a write (the web page does). */
const CSRF_HEADER = PAGE_WRITE_HEADER;
/** Longest `wait=` of `GET /approvals/:id` (seconds). */
const MAX_APPROVAL_WAIT_SECONDS = 60;

/** Options of {@link approvalsPlugin}. */
export type ApprovalsPluginOptions = {
  /** The session's resolved mode (its receipt). */
  mode: "pane" | "queue";
  policy: ApprovalPolicy;
  timeoutSeconds: number;
  /** Clock (Unix ms). Default `Date.now`. */
  now?: () => number;
  /** Path resolution (default: {@link resolvePolicyPaths}). */
  resolvePaths?: typeof resolvePolicyPaths;
  /** Diagnostics. Default: silent. */
  warn?: (line: string) => void;
};

type Json = LooseObject;

/** The JSON shape of a record (the routes, `approvals --json`). */
function recordJson(r: ApprovalRecord): Json {
  return { ...r };
}

/** The approvals plugin. */
export function approvalsPlugin(opts: ApprovalsPluginOptions): BrokerPlugin {
  const now = opts.now ?? Date.now;
  const warn = opts.warn ?? (() => {});
  const resolvePaths = opts.resolvePaths ?? resolvePolicyPaths;
  const state: ApprovalsState = createApprovalsState();
  const waiters = new Map<number, Set<() => void>>();
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  let ready: Promise<void> | null = null;
  let unsubscribe: (() => void) | null = null;
  let stopped = false;
  let paneChain: Promise<unknown> = Promise.resolve();
  /** Statuses waiting for {@link drainPane}, in log order. */
  let paneQueue: LogEntry[] = [];

  const wake = (id: number) => {
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const fn of set) fn();
  };

  function armTimeout(broker: Broker, r: ApprovalRecord) {
    if (r.mode !== "queue" || r.decision || timers.has(r.id) || stopped) return;
    const due = (r.requested_at + opts.timeoutSeconds) * 1000 - now();
    const t = setTimeout(() => {
      timers.delete(r.id);
      void decideOnce(broker, r.id, {
        decision: "deny",
        by: "timeout",
        reason: timeoutReason(opts.timeoutSeconds),
      }).catch((e) =>
        warn(`warning: approval timeout: ${(e as Error).message}`)
      );
    }, Math.max(0, due));
    timers.set(r.id, t);
  }

  function onEntry(broker: Broker, e: LogEntry) {
    const r = applyApprovalEntry(state, e);
    if (r) {
      if (r.decision) {
        wake(r.id);
        const t = timers.get(r.id);
        if (t !== undefined) {
          clearTimeout(t);
          timers.delete(r.id);
        }
      } else armTimeout(broker, r);
    }
    if (e.message.type === "agent.status") {
      // One link of the chain per run of statuses (a written batch), not
      // one per status: they are still taken one at a time, in order.
      paneQueue.push(e);
      if (paneQueue.length === 1) {
        paneChain = paneChain.then(() => drainPane(broker));
      }
    }
  }

  /** The queued statuses, one after the other (each waits for the last). */
  async function drainPane(broker: Broker) {
    const batch = paneQueue;
    paneQueue = [];
    for (const e of batch) {
      try {
        // Most statuses call for nothing: no await (a microtask) for them.
        const act = paneAction(broker, e);
        if (act) await act();
      } catch (err) {
        warn(`warning: approvals: ${(err as Error).message}`);
      }
    }
  }

  /**
   * What a status means for the pane requests, decided when its turn
   * comes: a `needs_input` opens a pane request; the next other status
   * answers it. Null when it calls for nothing.
   */
  function paneAction(
    broker: Broker,
    e: LogEntry,
  ): (() => Promise<unknown>) | null {
    const m = e.message;
    if (m.type !== "agent.status") return null;
    const detail = looseObject(m.payload.detail);
    if (detail.approval !== undefined) return null; // the queue's own wait
    // An agent waiting in the queue is not at a prompt of its own.
    for (const r of state.records.values()) {
      if (r.agent === m.agent_id && r.mode === "queue" && r.decision === null) {
        return null;
      }
    }
    const open = openPaneRequest(state, m.agent_id);
    if (m.payload.status === NEEDS_INPUT_LABEL) {
      if (open) return null;
      const label = m.payload.message ?? "waiting for a person";
      const colon = label.indexOf(": ");
      const req: ApprovalRequestMessage = {
        type: "approval.request",
        agent_id: m.agent_id,
        payload: {
          cli: m.payload.cli,
          tool: colon > 0 ? label.slice(0, colon) : "prompt",
          what: colon > 0 ? label.slice(colon + 2) : label,
          cwd: null,
          mode: "pane",
          why: looseText(detail.source) ? `seen by ${detail.source}` : null,
        },
      };
      return () => publish(broker, req);
    }
    if (!open) return null;
    return () =>
      decideOnce(broker, open.id, {
        decision: "pane",
        by: "pane",
        reason: null,
      });
  }

  async function publish(broker: Broker, msg: unknown): Promise<number> {
    const r = await broker.publish(msg);
    if (!r.ok) {
      throw new Error(`cannot file an approval: ${r.error.body.error}`);
    }
    onEntry(broker, {
      seq: r.seq,
      timestamp_unix_secs: Math.floor(now() / 1000),
      message: msg as LogEntry["message"],
    });
    return r.seq;
  }

  /** Decide a record once; the decided record, or why not. */
  async function decideOnce(
    broker: Broker,
    id: number,
    d: {
      decision: "allow" | "deny" | "pane";
      by: string;
      reason: string | null;
    },
  ): Promise<
    { ok: true; record: ApprovalRecord } | {
      ok: false;
      status: 404 | 409;
      error: string;
      record?: ApprovalRecord;
    }
  > {
    const r = state.records.get(id);
    if (!r) return { ok: false, status: 404, error: `no approval ${id}` };
    if (r.decision) {
      return {
        ok: false,
        status: 409,
        error:
          `approval ${id} was already decided (${r.decision.decision} by ${r.decision.by})`,
        record: r,
      };
    }
    // Decided from here on: a second decision in the meantime is a 409.
    r.decision = { ...d, at: Math.floor(now() / 1000) };
    try {
      const res = await broker.publish(decisionMessage(r, d));
      if (!res.ok) throw new Error(res.error.body.error);
    } catch (e) {
      r.decision = null;
      throw e;
    }
    wake(id);
    const t = timers.get(id);
    if (t !== undefined) {
      clearTimeout(t);
      timers.delete(id);
    }
    return { ok: true, record: r };
  }

  function load(broker: Broker): Promise<void> {
    ready ??= (async () => {
      unsubscribe = broker.subscribe((ev) => {
        if (ev.kind === "entry") onEntry(broker, ev.entry);
      }, { types: ["approval.request", "approval.decision", "agent.status"] });
      // Replays apply idempotently: entries seen live are skipped. Page by
      // page, letting the broker answer requests in between (a long log).
      for (let since = 0;;) {
        const page = await broker.logSince(since, REPLAY_PAGE);
        for (const e of page) {
          const r = applyApprovalEntry(state, e);
          if (r?.decision) wake(r.id);
        }
        if (page.length < REPLAY_PAGE) break;
        since = page[page.length - 1]!.seq;
        await new Promise((r) => setTimeout(r, 0));
      }
      for (const r of state.records.values()) armTimeout(broker, r);
    })();
    return ready;
  }

  function browserGuard(c: Context): Response | null {
    // A browser (it sends Origin) must prove it is the page: a header a
    // cross-site form cannot set.
    if (c.req.header("origin") === undefined) return null;
    if (c.req.header(CSRF_HEADER) === "1") return null;
    return c.json(
      { error: `a browser write needs the ${CSRF_HEADER} header` },
      403,
    );
  }

  async function jsonBody(c: Context): Promise<Json | Response> {
    const raw = await c.req.text();
    if (raw.trim() === "") return {};
    const ct = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(ct)) {
      return c.json({ error: "Content-Type must be application/json" }, 415);
    }
    try {
      return looseObject(JSON.parse(raw));
    } catch (e) {
      return c.json({ error: `invalid JSON: ${(e as Error).message}` }, 400);
    }
  }

  async function file(broker: Broker, c: Context): Promise<Response> {
    const body = await jsonBody(c);
    if (body instanceof Response) return body;
    const id = normaliseAgentId(body.agent_id);
    if (!id.ok) return c.json(id.error.body, 400);
    // Filed for this agent only with its key (a session broker's rule).
    const speaker = await broker.checkSpeaker(c.req.raw, [id.id]);
    if (speaker) return speaker;
    const tool = looseText(body.tool);
    if (!tool) return c.json({ error: "tool must be a non-blank string" }, 400);
    const base = { timeout_seconds: opts.timeoutSeconds, mode: opts.mode };
    if (opts.mode === "pane") return c.json({ ...base, decision: "pass" });
    const cwd = looseText(body.cwd);
    const watched = broker.watchTargets().find((w) => w.agent_id === id.id);
    const worktree = watched?.worktree_path ?? looseText(body.worktree) ?? cwd;
    const subject = approvalSubject(tool, body.input);
    const raws = policyPaths(subject);
    const resolved = worktree && cwd
      ? await resolvePaths(cwd, worktree, raws)
      : { worktree: "\0", paths: {} };
    const verdict = decideApproval(subject, opts.policy, {
      ...resolved,
      brokerUrl: broker.url,
      agent: id.id,
    });
    if (verdict.decision === "pass") {
      return c.json({ ...base, decision: "pass" });
    }
    const own = verdict.decision === "allow" &&
      verdict.rule.startsWith("git-paw's own");
    if (own) return c.json({ ...base, decision: "allow", by: verdict.rule });
    const req: ApprovalRequestMessage = {
      type: "approval.request",
      agent_id: id.id,
      payload: {
        cli: looseText(body.cli),
        tool,
        what: subjectText(tool, body.input),
        cwd,
        mode: "queue",
        why: verdict.decision === "ask" ? verdict.why : null,
      },
    };
    const seq = await publish(broker, req);
    if (verdict.decision === "ask") {
      return c.json({
        ...base,
        decision: "pending",
        id: seq,
        why: verdict.why,
      });
    }
    const reason = verdict.decision === "deny"
      ? `denied by git-paw's approval policy (${verdict.rule})`
      : null;
    const done = await decideOnce(broker, seq, {
      decision: verdict.decision,
      by: verdict.rule,
      reason,
    });
    const record = done.ok ? done.record : state.records.get(seq)!;
    return c.json({
      ...base,
      id: seq,
      decision: record.decision!.decision,
      by: record.decision!.by,
      reason: record.decision!.reason,
    });
  }

  function list(c: Context): Response {
    const pendingOnly = ["1", "true", "yes"].includes(
      c.req.query("pending") ?? "",
    );
    const agent = c.req.query("agent");
    const limitRaw = c.req.query("limit");
    const limit = limitRaw === undefined ? Infinity : Number(limitRaw);
    if (!(limit >= 1) || (limitRaw !== undefined && !/^\d+$/.test(limitRaw))) {
      return c.json({
        error: "limit must be a positive integer",
        value: limitRaw,
      }, 400);
    }
    let rows = [...state.records.values()];
    if (pendingOnly) rows = rows.filter((r) => r.decision === null);
    if (agent) rows = rows.filter((r) => r.agent === agent);
    if (rows.length > limit) rows = rows.slice(rows.length - limit);
    return c.json({
      mode: opts.mode,
      timeout_seconds: opts.timeoutSeconds,
      approvals: rows.map(recordJson),
    });
  }

  function parseId(c: Context): number | null {
    const raw = c.req.param("id") ?? "";
    const n = Number(raw);
    return /^\d+$/.test(raw) && Number.isSafeInteger(n) && n > 0 ? n : null;
  }

  async function one(c: Context): Promise<Response> {
    const id = parseId(c);
    if (id === null) {
      return c.json({ error: "approval id must be a positive integer" }, 400);
    }
    const waitRaw = c.req.query("wait");
    const wait = waitRaw === undefined ? 0 : Number(waitRaw);
    if (!(wait >= 0 && wait <= MAX_APPROVAL_WAIT_SECONDS)) {
      return c.json({
        error:
          `wait must be a number of seconds from 0 to ${MAX_APPROVAL_WAIT_SECONDS}`,
        value: waitRaw,
      }, 400);
    }
    let r = state.records.get(id);
    if (!r) return c.json({ error: `no approval ${id}` }, 404);
    if (wait > 0 && r.decision === null && !stopped) {
      await new Promise<void>((resolve) => {
        let set = waiters.get(id);
        if (!set) waiters.set(id, set = new Set());
        const done = () => {
          clearTimeout(timer);
          waiters.get(id)?.delete(done);
          resolve();
        };
        const timer = setTimeout(done, wait * 1000);
        set.add(done);
      });
      r = state.records.get(id)!;
    }
    return c.json(recordJson(r));
  }

  async function decideRoute(
    broker: Broker,
    c: Context,
    decision: "allow" | "deny",
  ): Promise<Response> {
    const denied = browserGuard(c);
    if (denied) return denied;
    const id = parseId(c);
    if (id === null) {
      return c.json({ error: "approval id must be a positive integer" }, 400);
    }
    const body = await jsonBody(c);
    if (body instanceof Response) return body;
    const by = looseText(body.by)?.slice(0, 60) ?? "user via cli";
    const reason = looseText(body.reason)?.slice(0, 2000) ??
      (decision === "deny" ? `denied by ${by}` : null);
    const r = state.records.get(id);
    if (r && r.mode === "pane" && r.decision === null) {
      return c.json({
        error:
          `approval ${id} waits at the CLI's own prompt in ${r.agent}'s pane (approvals mode "pane"): answer it there`,
        record: recordJson(r),
      }, 409);
    }
    const res = await decideOnce(broker, id, { decision, by, reason });
    if (!res.ok) {
      return c.json({
        error: res.error,
        ...(res.record ? { record: recordJson(res.record) } : {}),
      }, res.status);
    }
    return c.json(recordJson(res.record));
  }

  return {
    name: "approvals",
    routes(app: Hono, broker: Broker) {
      app.post("/approvals", async (c) => {
        const denied = browserGuard(c);
        if (denied) return denied;
        await load(broker);
        return await file(broker, c);
      });
      app.get("/approvals", async (c) => {
        await load(broker);
        return list(c);
      });
      app.get("/approvals/:id", async (c) => {
        await load(broker);
        return await one(c);
      });
      app.post("/approvals/:id/approve", async (c) => {
        await load(broker);
        return await decideRoute(broker, c, "allow");
      });
      app.post("/approvals/:id/deny", async (c) => {
        await load(broker);
        return await decideRoute(broker, c, "deny");
      });
    },
    async start(broker: Broker) {
      await load(broker);
      const unregister = registerApprovals(broker, {
        pending: () => new Set(pendingApprovals(state).map((r) => r.id)),
        decide: async (id, d) => {
          const res = await decideOnce(broker, id, d);
          return res.ok ? null : res.error;
        },
      });
      return async () => {
        unregister();
        stopped = true;
        unsubscribe?.();
        for (const t of timers.values()) clearTimeout(t);
        timers.clear();
        for (const id of [...waiters.keys()]) wake(id);
        await paneChain.catch(() => {});
      };
    },
  };
}
