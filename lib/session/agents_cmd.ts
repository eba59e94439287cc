/**
 * `git paw agents [--json]`: every agent of the session — id, branch, CLI,
 * status and attention, tmux pane, worktree, newest message, what it waits
 * for (lib/core/agents_view.ts). Reads the receipt (`--session`, else this
 * repo's), the broker's `/status`, `/log` and `/approvals` (a stopped
 * broker: the receipt alone, with a note on stderr) and the session's
 * panes. Also the loader `git paw tell` and `start --unattended` use.
 *
 * Needs `--allow-net` (the broker), `--allow-read`/`--allow-env`
 * (receipts), `--allow-run=git,tmux`.
 * @module
 */
import { AppError } from "../core/errors.ts";
import type { Receipt } from "../core/session.ts";
import type { LogEntry } from "../core/broker_types.ts";
import type { RosterRow } from "../core/broker_state.ts";
import type { ApprovalRecord } from "../core/approvals.ts";
import {
  agentsTable,
  agentsView,
  type AgentView,
  type Attention,
} from "../core/agents_view.ts";
import { eprintln, printJson, println, style } from "../output.ts";
import { listPanes } from "../adapters/tmux.ts";
import { brokerClient } from "../broker/client.ts";
import { receiptBrokerUrl } from "./common.ts";
import { findReceiptForRepo, readReceipt } from "./receipt.ts";

/** How many recent log entries the view reads. */
const LOG_WINDOW = 5000;

/** What the broker and tmux said about a session at one moment. */
export type SessionSnapshot = {
  receipt: Receipt;
  brokerUrl: string | null;
  token: string | undefined;
  /** False when the broker did not answer. */
  brokerUp: boolean;
  roster: RosterRow[];
  log: LogEntry[];
  last_seq: number;
  approvals: ApprovalRecord[];
  /** Pane id per agent id (live panes only). */
  panes: Map<string, string>;
  /** Unix seconds when read. */
  now: number;
};

/** The session's receipt: `--session NAME`, else this repo's. */
export async function sessionReceipt(session?: string): Promise<Receipt> {
  if (session) {
    const r = await readReceipt(session);
    if (!r) throw new AppError(`No session named '${session}'.`, "no_session");
    return r;
  }
  const { repoRoot } = await import("../adapters/git.ts");
  const repo = await repoRoot();
  const r = await findReceiptForRepo(repo);
  if (!r || r.worktrees.length === 0) {
    throw new AppError(
      "No session for this repo. Run `git paw start`.",
      "no_session",
    );
  }
  return r;
}

/** Pane id per agent id of a tmux session (empty when it is gone). */
export async function agentPanes(
  session: string,
): Promise<Map<string, string>> {
  try {
    return new Map(
      (await listPanes(session)).filter((p) => p.agent !== "" && !p.dead)
        .map((p) => [p.agent, p.id] as const),
    );
  } catch {
    return new Map();
  }
}

/** Read everything the agents view needs, in parallel. */
export async function readSnapshot(
  receipt: Receipt,
  opts: { token?: string; logWindow?: number } = {},
): Promise<SessionSnapshot> {
  const url = receiptBrokerUrl(receipt);
  const token = opts.token ?? receipt.broker_token ?? undefined;
  const panesP = agentPanes(receipt.session_name);
  const snap: SessionSnapshot = {
    receipt,
    brokerUrl: url,
    token,
    brokerUp: false,
    roster: [],
    log: [],
    last_seq: 0,
    approvals: [],
    panes: new Map(),
    now: Date.now() / 1000,
  };
  if (url) {
    const c = brokerClient(url, { token });
    try {
      const st = await c.status({ timeoutMs: 3000 });
      if (st.ok && st.json && typeof st.json === "object") {
        const body = st.json as { agents?: RosterRow[]; last_seq?: number };
        snap.brokerUp = true;
        snap.roster = body.agents ?? [];
        snap.last_seq = body.last_seq ?? 0;
        const since = Math.max(
          0,
          snap.last_seq - (opts.logWindow ?? LOG_WINDOW),
        );
        const [page, ap] = await Promise.all([
          c.log({ since }, { timeoutMs: 5000 }),
          c.request("GET", "/approvals", undefined, { timeoutMs: 5000 })
            .catch(() => null),
        ]);
        snap.log = page.entries as unknown as LogEntry[];
        if (ap?.ok && ap.json && typeof ap.json === "object") {
          snap.approvals =
            (ap.json as { approvals?: ApprovalRecord[] }).approvals ?? [];
        }
      }
    } catch { /* broker away: the receipt alone */ }
  }
  snap.panes = await panesP;
  snap.now = Date.now() / 1000;
  return snap;
}

/** The agents of a snapshot. */
function snapshotAgents(s: SessionSnapshot): AgentView[] {
  return agentsView({
    worktrees: s.receipt.worktrees,
    roster: s.roster,
    log: s.log,
    approvals: s.approvals,
    panes: s.panes,
  }, s.now);
}

function colourOf(a: Attention, text: string): string {
  switch (a) {
    case "needs_input":
    case "blocked":
      return style.yellow(text);
    case "done":
    case "verified":
      return style.green(text);
    default:
      return text;
  }
}

/** `git paw agents`. */
export async function agentsCommand(
  opts: { json?: boolean; session?: string; token?: string },
): Promise<void> {
  const receipt = await sessionReceipt(opts.session);
  const snap = await readSnapshot(receipt, { token: opts.token });
  if (!snap.brokerUp) {
    eprintln(
      snap.brokerUrl
        ? `git-paw: the broker at ${snap.brokerUrl} is not answering; statuses and messages are unknown`
        : `git-paw: session '${receipt.session_name}' runs without a broker; statuses and messages are unknown`,
    );
  }
  const rows = snapshotAgents(snap);
  if (opts.json) {
    printJson(rows);
    return;
  }
  println(agentsTable(rows, receipt.session_name, {
    attention: colourOf,
    dim: (t) => style.dim(t),
  }));
}
