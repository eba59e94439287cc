/**
 * The drive loop of `git paw start --unattended [--max-minutes N]`: runs in
 * the foreground instead of attaching. About every 2 s it reads the
 * session's roster, new log entries, approval queue and panes, hands them
 * to lib/core/unattended.ts, and does what it says: a progress line on
 * stderr, a nudge for a stalled agent (the `git paw tell` route: typed into
 * an idle pane, else queued as `agent.feedback`), the `[notify] command`
 * for each denial (once per cause, kept in the state dir across runs).
 * Questions, blocked agents and waiting approvals reach the notify command
 * from pane 0's alerts. It ends when every agent is done or verified (exit
 * 0), the time budget is spent (3) or the session is gone (4), prints the
 * summary (`--json`: as JSON) and writes it to
 * `<state dir>/unattended-summary.json`. The session keeps running unless
 * `--stop-when-done` and every agent finished.
 *
 * Needs `--allow-run=git,tmux` (and the notify command), `--allow-net`,
 * `--allow-read`, `--allow-write` (the state dir), `--allow-env`.
 * @module
 */
import { join } from "node:path";
import type { Receipt } from "../core/session.ts";
import type { LogEntry } from "../core/broker_types.ts";
import type { RosterRow } from "../core/broker_state.ts";
import type { ApprovalRecord } from "../core/approvals.ts";
import { agentsView } from "../core/agents_view.ts";
import {
  createUnattended,
  summaryText,
  UNATTENDED_EXIT,
  type UnattendedOutcome,
  unattendedStep,
  unattendedSummary,
} from "../core/unattended.ts";
import { createSent, markSent, wasSent } from "../core/notify_sent.ts";
import { clockText } from "../core/dashboard_summary.ts";
import { slugify } from "../core/slug.ts";
import type { Config } from "../core/config.ts";
import { readDashboardSettings } from "../core/dashboard_settings.ts";
import { brokerClient } from "../broker/client.ts";
import { sessionSpeakerKey } from "./credentials.ts";
import { gitTry } from "../adapters/git_run.ts";
import { writeTextAtomic } from "../adapters/fs.ts";
import { hasSession } from "../adapters/tmux.ts";
import { fileSentStore, runNotifyCommand } from "../dashboard/alerts.ts";
import { eprintln, printJson, println } from "../output.ts";
import { receiptBrokerUrl } from "./common.ts";
import { brokerDataDir } from "./receipt.ts";
import { agentPanes } from "./agents_cmd.ts";
import { tellAgent } from "./tell.ts";
import { sleep } from "../sleep.ts";

/** Default time budget (minutes) when `--max-minutes` is not given. */
const DEFAULT_MAX_MINUTES = 60;

/** Options of {@link runUnattended}. */
export type UnattendedRunOptions = {
  config: Config;
  /** Time budget in minutes (default {@link DEFAULT_MAX_MINUTES}). */
  maxMinutes?: number;
  json?: boolean;
  /** Stop the session when every agent finished. */
  stopWhenDone?: boolean;
  /** Between two rounds (default 2000 ms). */
  intervalMs?: number;
  /** Unix seconds the run began (default now; `start` passes its own start). */
  startedAt?: number;
};

/** Where the summary of the last run is kept. */
function summaryPath(session: string): string {
  return join(brokerDataDir(session), "unattended-summary.json");
}

const LOG_KEEP = 5000;

/**
 * Drive the session of `receipt` to its end; resolves to the exit code
 * (also set as `Deno.exitCode`).
 */
export async function runUnattended(
  receipt: Receipt,
  opts: UnattendedRunOptions,
): Promise<number> {
  const session = receipt.session_name;
  const url = receiptBrokerUrl(receipt);
  if (!url) throw new Error("an unattended session needs its broker");
  const token = receipt.broker_token ?? undefined;
  const key = await sessionSpeakerKey(session);
  const client = brokerClient(url, {
    token,
    ...(key ? { agentKey: key } : {}),
  });
  const settings = readDashboardSettings(opts.config);
  const maxMinutes = opts.maxMinutes ?? DEFAULT_MAX_MINUTES;
  const startedAt = opts.startedAt ?? Date.now() / 1000;
  const state = createUnattended({
    stallSeconds: settings.stallThresholdSeconds,
    startedAt,
    deadline: startedAt + maxMinutes * 60,
  });
  const progress = (line: string) =>
    eprintln(`${clockText(Date.now() / 1000)}  ${line}`);
  if (receipt.approvals_mode !== "queue") {
    progress(
      "warning: this session answers approvals in the panes (it was started without --unattended); nobody is there to answer them",
    );
  }
  progress(
    `unattended: ${receipt.worktrees.length} agent(s), budget ${maxMinutes} min, nudge after ${state.opts.stallSeconds} s of silence${
      settings.notifyCommand ? "" : ", no [notify] command set"
    }`,
  );
  const sentStore = fileSentStore(
    join(brokerDataDir(session), "unattended-notified.json"),
  );
  const sent = await sentStore.load().catch(() => null) ?? createSent();

  const stop = new AbortController();
  const onSig = () => stop.abort();
  try {
    Deno.addSignalListener("SIGINT", onSig);
  } catch { /* not on this platform */ }

  let cursor: number | null = null;
  let log: LogEntry[] = [];
  let roster: RosterRow[] = [];
  let approvals: ApprovalRecord[] = [];
  let outcome: UnattendedOutcome | null = null;
  let misses = 0;
  const interval = opts.intervalMs ?? 2000;
  let agents = agentsView({
    worktrees: receipt.worktrees,
    roster,
    log,
    approvals,
    panes: new Map(),
  }, startedAt);
  try {
    while (outcome === null) {
      let entries: LogEntry[] = [];
      try {
        const st = await client.status({ timeoutMs: 3000 });
        const body = (st.json ?? {}) as {
          agents?: RosterRow[];
          last_seq?: number;
        };
        if (!st.ok) throw new Error(`status ${st.status}`);
        roster = body.agents ?? [];
        if (cursor === null) {
          cursor = Math.max(0, (body.last_seq ?? 0) - LOG_KEEP);
        }
        const page = await client.log({ since: cursor, limit: 1000 }, {
          timeoutMs: 5000,
        });
        entries = page.entries as unknown as LogEntry[];
        for (const e of entries) cursor = Math.max(cursor, e.seq);
        log = log.concat(entries);
        if (log.length > LOG_KEEP) log = log.slice(log.length - LOG_KEEP);
        const ap = await client.request("GET", "/approvals", undefined, {
          timeoutMs: 5000,
        });
        if (ap.ok) {
          approvals = ((ap.json ?? {}) as { approvals?: ApprovalRecord[] })
            .approvals ?? [];
        }
        misses = 0;
      } catch {
        misses++;
        if (await hasSession(session) !== "alive" || misses >= 15) {
          outcome = "ended";
          break;
        }
        await sleep(interval, stop.signal);
        if (stop.signal.aborted) outcome = "ended";
        continue;
      }
      const now = Date.now() / 1000;
      // Entries from before the run only feed the view, not the report.
      const fresh = entries.filter((e) =>
        e.timestamp_unix_secs >= startedAt - 1
      );
      agents = agentsView({
        worktrees: receipt.worktrees,
        roster,
        log,
        approvals,
        panes: await agentPanes(session),
      }, now);
      const step = unattendedStep(state, {
        agents,
        roster,
        approvals,
        entries: fresh,
      }, now);
      for (const a of step.actions) {
        if (a.kind === "progress") progress(a.line);
        else if (a.kind === "nudge") {
          try {
            const r = await tellAgent(receipt, a.agent, a.text, {
              from: "git-paw",
              token,
            });
            progress(
              `${a.agent} silent for ${a.silentSeconds} s: nudged (${
                r.route === "keys"
                  ? "typed into its pane"
                  : `queued as agent.feedback: ${r.why}`
              })`,
            );
          } catch (e) {
            progress(`${a.agent}: could not nudge: ${(e as Error).message}`);
          }
        } else if (a.kind === "notify") {
          if (wasSent(sent, a.cause)) continue;
          markSent(sent, a.cause);
          await sentStore.save(sent);
          if (!settings.notifyCommand) continue;
          const login = token === undefined
            ? "/"
            : `/?token=${encodeURIComponent(token)}`;
          await runNotifyCommand(
            settings.notifyCommand,
            { agent_id: a.agent, reason: a.reason, detail: a.detail },
            `${url}${login}#approval-${a.approval}`,
          ).catch((e) => progress(`notify: ${(e as Error).message}`));
        }
      }
      outcome = step.outcome;
      if (outcome !== null) break;
      await sleep(interval, stop.signal);
      if (stop.signal.aborted) outcome = "ended";
    }
  } finally {
    try {
      Deno.removeSignalListener("SIGINT", onSig);
    } catch { /* not added */ }
  }

  // What each agent did: the commits on its branch that the user's
  // checkout does not have.
  const commits = new Map<string, string[]>();
  await Promise.all(receipt.worktrees.map(async (w) => {
    const id = slugify(w.branch);
    const r = await gitTry(receipt.repo_path, [
      "log",
      "--format=%h %s",
      "--reverse",
      `HEAD..refs/heads/${w.branch}`,
      "--",
    ]);
    if (r.code === 0) {
      commits.set(id, r.stdout.split("\n").filter((l) => l.trim() !== ""));
    }
  }));
  let running = await hasSession(session) === "alive";
  if (outcome === "done" && opts.stopWhenDone && running) {
    // Every agent finished: nothing left to inspect in the panes.
    const { stopCommand } = await import("./stop.ts");
    await stopCommand({ print: (l) => progress(l) });
    running = false;
  }
  const final: UnattendedOutcome = outcome ?? "ended";
  const summary = unattendedSummary(state, {
    session,
    outcome: final,
    agents,
    approvals,
    commits,
    maxMinutes,
    sessionRunning: running,
  }, Date.now() / 1000);
  await writeTextAtomic(
    summaryPath(session),
    JSON.stringify(summary, null, 2) + "\n",
    { mode: 0o600 },
  ).catch((e) =>
    progress(`could not write the summary: ${(e as Error).message}`)
  );
  if (opts.json) printJson(summary);
  else println(summaryText(summary));
  const code = UNATTENDED_EXIT[final];
  Deno.exitCode = code;
  return code;
}
