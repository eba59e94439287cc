/**
 * The pure session model (docs/REFERENCE.md, "Session state"): the receipt schema, the per-repo
 * discovery file, status derivation and the smart-start decision table.
 * No I/O here; `lib/session/` reads and writes the files and asks tmux.
 * @module
 */
import { z } from "zod";
import { brokerUrlOf } from "./broker_url.ts";
import { formatPorts, PortBlock } from "./ports.ts";

/** Lifecycle state recorded in a receipt. */
const ReceiptStatus = z.enum(["active", "paused", "stopped"]);
/** Lifecycle state recorded in a receipt. */
type ReceiptStatus = z.infer<typeof ReceiptStatus>;

/** One agent of a session as recorded in the receipt. */
export const ReceiptWorktree = z.object({
  branch: z.string().min(1),
  worktree_path: z.string().min(1),
  /** CLI name as chosen (`claude`, `demo`, a custom name). */
  cli: z.string().min(1),
  /** True when git-paw created the branch (purge may delete it). */
  branch_created: z.boolean(),
  /** The argv the pane ran; used when the CLI can no longer be resolved. */
  cli_argv: z.array(z.string()).optional(),
  /** Boot prompt still to submit (an agent added while paused). */
  pending_boot_prompt: z.string().optional(),
  /** The agent's block of dev ports (`PORT` = first), kept across recovery. */
  ports: PortBlock.optional(),
  /**
   * The spec the agent was launched from (`start --from-all-specs`,
   * `--specs`, `add --from-spec`); setup writes it into AGENTS.md again on
   * recovery.
   */
  spec: z.object({
    id: z.string(),
    prompt: z.string(),
    owned_files: z.array(z.string()),
  }).optional(),
});
/** One agent of a session as recorded in the receipt. */
export type ReceiptWorktree = z.infer<typeof ReceiptWorktree>;

/** The global session receipt `<data>/git-paw/sessions/<session>.json`. */
export const Receipt = z.object({
  session_name: z.string().min(1),
  repo_path: z.string().min(1),
  project_name: z.string(),
  created_at: z.string(),
  status: ReceiptStatus,
  worktrees: z.array(ReceiptWorktree),
  broker_port: z.number().int().min(1).max(65535).optional(),
  broker_bind: z.string().optional(),
  /** Bearer token agents present when the broker binds beyond loopback. */
  broker_token: z.string().optional(),
  broker_log_path: z.string().optional(),
  mode: z.enum(["bare", "supervisor"]).default("bare"),
  dashboard_pane: z.number().int().min(0).optional(),
  /**
   * `[approvals] mode` as resolved at start (`pane` for an interactive
   * start, `queue` for `--unattended`/supervisor unless the config says);
   * absent in receipts of older versions (= pane).
   */
  approvals_mode: z.enum(["pane", "queue"]).optional(),
});
/** The global session receipt. */
export type Receipt = z.infer<typeof Receipt>;

/** The per-repo discovery file `<repo>/.git-paw/sessions/<session>.json`. */
export const DiscoveryFile = z.object({
  session_name: z.string().min(1),
  agents: z.array(z.object({
    branch_id: z.string(),
    worktree_path: z.string(),
    cli: z.string(),
    pane_index: z.number().int().min(0),
  })),
});
/** The per-repo discovery file. */
export type DiscoveryFile = z.infer<typeof DiscoveryFile>;

/** Result of {@link parseReceipt}. */
export type ParseResult<T> = { ok: true; value: T } | {
  ok: false;
  error: string;
};

/** Validate parsed JSON as a receipt; the error names the first bad field. */
export function parseReceipt(raw: unknown): ParseResult<Receipt> {
  const r = Receipt.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const i = r.error.issues[0]!;
  const path = i.path.map(String).join(".");
  return { ok: false, error: `${path || "(top level)"}: ${i.message}` };
}

/** Validate parsed JSON as a discovery file. */
export function parseDiscovery(raw: unknown): ParseResult<DiscoveryFile> {
  const r = DiscoveryFile.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  const i = r.error.issues[0]!;
  return {
    ok: false,
    error: `${i.path.map(String).join(".") || "(top level)"}: ${i.message}`,
  };
}

/** What `tmux has-session` said. */
export type Liveness = "alive" | "stale" | "indeterminate";

/** Status shown by `git paw status`. */
export type DisplayStatus = "active" | "paused" | "stopped" | "stale";

/**
 * Status for display (docs/REFERENCE.md, "Session state"): active+alive → active, active+dead → stale,
 * paused+alive → paused, everything else → stopped.
 *
 * @example
 * ```ts
 * import { displayStatus } from "./session.ts";
 * displayStatus("active", "stale"); // "stale"
 * ```
 */
export function displayStatus(
  status: ReceiptStatus,
  tmux: Liveness,
): DisplayStatus {
  if (status === "active") return tmux === "alive" ? "active" : "stale";
  if (status === "paused" && tmux === "alive") return "paused";
  return "stopped";
}

/** Effective status for start/add/pause: active/paused without tmux → stopped. */
export function effectiveStatus(
  status: ReceiptStatus,
  tmux: Liveness,
): ReceiptStatus {
  if (status !== "stopped" && tmux !== "alive") return "stopped";
  return status;
}

/** What `start` does with an existing receipt. */
export type StartDecision =
  | { kind: "fresh" }
  | { kind: "reattach" }
  | { kind: "restart-paused" }
  | { kind: "recover"; reason: "stopped" | "paused-dead" | "crashed" };

/**
 * The smart-start table (docs/REFERENCE.md, "Session state"), with one deliberate change: an
 * `active` receipt whose tmux session is gone (a crash or a reboot) is
 * recovered, never force-purged.
 *
 * @example
 * ```ts
 * import { decideStart } from "./session.ts";
 * decideStart({ status: "active" }, false); // { kind: "recover", reason: "crashed" }
 * ```
 */
export function decideStart(
  receipt: Pick<Receipt, "status"> | null,
  tmuxAlive: boolean,
): StartDecision {
  if (receipt === null) return { kind: "fresh" };
  switch (receipt.status) {
    case "active":
      return tmuxAlive
        ? { kind: "reattach" }
        : { kind: "recover", reason: "crashed" };
    case "paused":
      return tmuxAlive
        ? { kind: "restart-paused" }
        : { kind: "recover", reason: "paused-dead" };
    case "stopped":
      return { kind: "recover", reason: "stopped" };
  }
}

/** Maximum agents in one session. */
export const MAX_AGENTS = 25;

export { brokerUrlOf };

/** The `status --json` document (docs/REFERENCE.md, "Other commands"). */
export type StatusJson = {
  session: string | null;
  status?: DisplayStatus;
  tmux_running?: boolean;
  broker_url?: string | null;
  /**
   * Pane 0's self-healing (present while it runs): restarts since the
   * broker last stayed up a minute, the cause of the last death, and
   * whether restarting stopped (a crash loop) with the reason.
   */
  broker_heal?: BrokerHeal;
  worktrees?: Array<{
    branch: string;
    cli: string;
    worktree_path: string;
    /** `PORT` of the agent's pane. */
    port?: number;
    /** `GIT_PAW_PORTS` of the agent's pane (`first-last`). */
    ports?: string;
  }>;
};

/** The `broker_heal` member of {@link StatusJson}. */
export type BrokerHeal = {
  restarts: number;
  last_death?: string;
  stopped: boolean;
  reason?: string;
};

/**
 * Build the `status --json` document from a receipt and tmux liveness (and
 * pane 0's healing state, when it runs).
 */
export function statusJson(
  receipt: Receipt | null,
  tmux: Liveness,
  heal?: BrokerHeal,
): StatusJson {
  if (!receipt) return { session: null };
  return {
    session: receipt.session_name,
    status: displayStatus(receipt.status, tmux),
    tmux_running: tmux === "alive",
    broker_url: receipt.broker_port
      ? brokerUrlOf(receipt.broker_bind ?? "127.0.0.1", receipt.broker_port)
      : null,
    ...(heal ? { broker_heal: heal } : {}),
    worktrees: receipt.worktrees.map((w) => ({
      branch: w.branch,
      cli: w.cli,
      worktree_path: w.worktree_path,
      ...(w.ports ? { port: w.ports.first, ports: formatPorts(w.ports) } : {}),
    })),
  };
}
