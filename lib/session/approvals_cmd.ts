/**
 * `git paw approve ID`, `git paw deny ID [--reason TEXT]` and
 * `git paw approvals [--pending] [--json] [--limit N] [--patterns]`: decide
 * a pending approval of the session's queue (lib/coord/approvals_plugin.ts)
 * and read the audit — what, which agent, who or which rule decided, when.
 * The broker is found from `--broker`/`--token`, else the session's receipt
 * (`--session`, else this repo's), else `$GIT_PAW_BROKER_URL` /
 * `$GIT_PAW_BROKER_TOKEN` (an agent's pane, e.g. the supervisor's).
 *
 * Needs `--allow-net` (the broker), `--allow-read`/`--allow-env`
 * (receipts), `--allow-run=git` (the repo).
 * @module
 */
import type { Command } from "commander";
import { AppError, UsageError } from "../core/errors.ts";
import { eprintln, printJson, println } from "../output.ts";
import {
  applyApprovalEntry,
  type ApprovalRecord,
  auditText,
  createApprovalsState,
  patternRows,
  patternsText,
} from "../core/approvals.ts";

/** Where the commands find the broker. */
export type BrokerTarget = {
  url: string;
  token?: string;
  session: string;
  /** The session's durable log, when known (read when the broker is down). */
  logPath?: string;
};

/** Flags shared by the three commands. */
export type TargetFlags = { session?: string; broker?: string; token?: string };

/** Find the session's broker (see the module doc). */
async function resolveBrokerTarget(
  flags: TargetFlags,
): Promise<BrokerTarget> {
  const envToken = Deno.env.get("GIT_PAW_BROKER_TOKEN") || undefined;
  if (flags.broker) {
    return {
      url: flags.broker,
      token: flags.token ?? envToken,
      session: flags.session ?? "?",
    };
  }
  const [{ readReceipt, findReceiptForRepo }, { receiptBrokerUrl }] =
    await Promise.all([import("./receipt.ts"), import("./common.ts")]);
  let receipt = null;
  if (flags.session) {
    receipt = await readReceipt(flags.session);
    if (!receipt) {
      throw new AppError(`No session named '${flags.session}'.`, "no_session");
    }
  } else {
    const { repoRoot } = await import("../adapters/git.ts");
    const repo = await repoRoot().catch(() => null);
    if (repo) receipt = await findReceiptForRepo(repo);
  }
  const url = receipt ? receiptBrokerUrl(receipt) : null;
  if (receipt && url) {
    const [{ brokerDataDir }, { sessionFileBase }, { join }] = await Promise
      .all([
        import("./receipt.ts"),
        import("../broker/store.ts"),
        import("node:path"),
      ]);
    return {
      url,
      token: flags.token ?? receipt.broker_token ?? undefined,
      session: receipt.session_name,
      logPath: join(
        brokerDataDir(receipt.session_name),
        `${sessionFileBase(receipt.session_name)}.jsonl`,
      ),
    };
  }
  const envUrl = Deno.env.get("GIT_PAW_BROKER_URL");
  if (envUrl) {
    return { url: envUrl, token: flags.token ?? envToken, session: "?" };
  }
  throw new AppError(
    receipt
      ? `Session '${receipt.session_name}' runs without a broker: there is no approval queue.`
      : "No session for this repo. Run `git paw start`, or pass --broker URL.",
    "no_broker",
  );
}

async function call(
  t: BrokerTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const { brokerClient, replyText } = await import("../broker/client.ts");
  const c = brokerClient(t.url, { token: t.token });
  const reply = await c.request(method, path, body, { timeoutMs: 5000 });
  if (reply.status === 404 && reply.json === undefined) {
    throw new AppError(`The broker at ${t.url} has no approval queue.`);
  }
  const json = (reply.json ?? {}) as Record<string, unknown>;
  if (!reply.ok && reply.status !== 409) {
    throw new AppError(
      `Cannot ${method === "GET" ? "read" : "decide"} approvals: ${
        replyText(reply)
      }`,
      "approvals",
    );
  }
  return { status: reply.status, json };
}

function parseId(raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new UsageError(
      `approval id must be a positive whole number, got '${raw}'`,
    );
  }
  return Number(raw);
}

/** `git paw approve|deny ID`: prints the decided record (or exits 1 on a 409). */
async function decideCommand(
  decision: "approve" | "deny",
  rawId: string,
  opts: TargetFlags & { reason?: string; by?: string; json?: boolean },
): Promise<void> {
  const id = parseId(rawId);
  const t = await resolveBrokerTarget(opts);
  // Run by the supervisor (its pane's identity): the audit says so.
  const by = opts.by ??
    (Deno.env.get("GIT_PAW_AGENT_ID") === "supervisor"
      ? "supervisor"
      : "user via cli");
  const body: Record<string, string> = { by };
  if (opts.reason !== undefined) body.reason = opts.reason;
  const r = await call(t, "POST", `/approvals/${id}/${decision}`, body);
  if (r.status === 409) {
    if (opts.json) printJson(r.json);
    throw new AppError(
      String(r.json.error ?? `approval ${id} was already decided`),
      "approval_decided",
    );
  }
  if (opts.json) {
    printJson(r.json);
    return;
  }
  const rec = r.json as unknown as ApprovalRecord;
  println(
    `${
      decision === "approve" ? "Approved" : "Denied"
    } #${id} (${rec.agent}: ${rec.tool}: ${rec.what})${
      rec.decision?.reason ? ` — ${rec.decision.reason}` : ""
    }`,
  );
}

/** `git paw approvals`. */
async function approvalsCommand(
  opts: TargetFlags & {
    pending?: boolean;
    json?: boolean;
    limit?: number;
    patterns?: boolean;
  },
): Promise<void> {
  const t = await resolveBrokerTarget(opts);
  const q = new URLSearchParams();
  if (opts.pending && !opts.patterns) q.set("pending", "1");
  if (opts.limit !== undefined && !opts.patterns) {
    q.set("limit", String(opts.limit));
  }
  let r: { json: Record<string, unknown> };
  try {
    r = await call(t, "GET", `/approvals${q.size ? `?${q}` : ""}`);
  } catch (e) {
    const { BrokerUnreachableError } = await import("../broker/client.ts");
    if (!(e instanceof BrokerUnreachableError) || !t.logPath) throw e;
    // The broker is not running (a stopped session): the log has it all.
    const { readTextOrNull } = await import("../adapters/fs.ts");
    const text = await readTextOrNull(t.logPath);
    if (text === null) throw e;
    eprintln(`git-paw: the broker is not running; read from ${t.logPath}`);
    let rows = recordsFromLog(text);
    if (opts.pending && !opts.patterns) rows = rows.filter((x) => !x.decision);
    if (
      opts.limit !== undefined && !opts.patterns && rows.length > opts.limit
    ) rows = rows.slice(rows.length - opts.limit);
    r = { json: { mode: null, approvals: rows } };
  }
  const records = (r.json.approvals ?? []) as ApprovalRecord[];
  if (opts.patterns) {
    const { basename } = await import("node:path");
    const { repoRoot } = await import("../adapters/git.ts");
    const repo = await repoRoot().catch(() => null);
    const rows = patternRows(records, repo ? basename(repo) : "", opts.limit);
    if (opts.json) printJson({ session: t.session, approvals: rows });
    else println(patternsText(rows, t.session));
    return;
  }
  if (opts.json) {
    printJson({
      session: t.session,
      mode: r.json.mode ?? null,
      approvals: records,
    });
    return;
  }
  println(auditText(records, t.session, opts.pending ?? false));
}

/** The approvals of a session's JSONL log (lines that are not entries are skipped). */
function recordsFromLog(text: string): ApprovalRecord[] {
  const state = createApprovalsState();
  for (const line of text.split("\n")) {
    if (!line.includes('"approval.')) continue;
    try {
      const e = JSON.parse(line);
      if (typeof e?.seq === "number" && e.message) applyApprovalEntry(state, e);
    } catch { /* a torn line */ }
  }
  return [...state.records.values()];
}

function limitArg(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) {
    throw new UsageError(`--limit must be a positive whole number, got '${v}'`);
  }
  return Number(v);
}

function targetOptions(cmd: Command): Command {
  return cmd
    .option("--session <name>", "the session (default: this repo's)")
    .option("--broker <url>", "the broker URL (default: from the session)")
    .option(
      "--token <token>",
      "the broker's bearer token (default: from the session)",
    );
}

/** Register `approve`, `deny` and `approvals` on `program`. */
export function registerApprovalCommands(program: Command): void {
  const decision = (
    verb: "approve" | "deny",
    description: string,
    reasonHelp: string,
  ) =>
    targetOptions(
      program
        .command(verb)
        .description(description)
        .argument("<id>", "approval id (see `git paw approvals --pending`)")
        .option("--reason <text>", reasonHelp)
        .option(
          "--by <who>",
          "who decides, for the audit (default: user via cli)",
        )
        .option("--json", "print the decided request as JSON"),
    ).action(
      async (
        id: string,
        o: TargetFlags & { reason?: string; by?: string; json?: boolean },
      ) => {
        await decideCommand(verb, id, o);
      },
    );
  decision(
    "approve",
    "Approve a pending request of the approval queue (the tool call runs)",
    "a note for the audit",
  );
  decision(
    "deny",
    "Deny a pending request of the approval queue; the reason reaches the model",
    "why (the agent's CLI hands it to the model)",
  );
  targetOptions(
    program
      .command("approvals")
      .description(
        "The approval audit: pending and decided requests (what, which agent, who or which rule decided, when)",
      )
      .option("--pending", "only requests waiting for a decision")
      .option("--json", "print JSON")
      .option("--limit <n>", "at most N (the newest)", limitArg)
      .option(
        "--patterns",
        "group the requests a person decided by pattern, with allowlist suggestions",
      ),
  ).action(
    async (
      o: TargetFlags & {
        pending?: boolean;
        json?: boolean;
        limit?: number;
        patterns?: boolean;
      },
    ) => {
      await approvalsCommand(o);
    },
  );
}
