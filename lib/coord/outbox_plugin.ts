/**
 * The broker side of the agents' outboxes (lib/coord/outbox.ts): when the
 * session broker starts, and whenever a worktree is registered with it, it
 * ingests what waits in that worktree's `<git-dir>/paw-outbox.jsonl`, in
 * order, and removes what it stored. Messages carry a `msg_id`, so a helper
 * or hook flushing the same outbox at the same moment creates no duplicate.
 * Only messages the worktree's own agent may author are taken (the broker
 * checks no key for them, so an outbox cannot speak for another agent);
 * others are dropped with a warning.
 *
 * Needs `--allow-read`, `--allow-write` (the worktrees' git dirs),
 * `--allow-run=git` (to find a git dir the layout does not show).
 * @module
 */
import type { Broker, BrokerPlugin } from "../broker/api.ts";
import { gitDir } from "../adapters/git_layout.ts";
import { deliverThroughOutbox, outboxPending } from "./outbox.ts";
import { parseMessage } from "../core/messages.ts";
import { authorsOf } from "../core/agent_key.ts";

/** Options of {@link outboxPlugin}. */
export type OutboxPluginOptions = {
  /** Warnings (refused messages, unreadable outboxes). */
  warn?: (line: string) => void;
};

/**
 * Ingest the outbox of the worktree at `worktreePath` into `broker`.
 * @returns how many messages were stored (or found stored already)
 */
async function ingestOutbox(
  broker: Broker,
  worktreePath: string,
  warn: (line: string) => void = () => {},
  agentId?: string,
): Promise<number> {
  let dir: string;
  try {
    dir = await gitDir(worktreePath);
  } catch {
    return 0; // the worktree is gone
  }
  if (!(await outboxPending(dir))) return 0;
  const report = await deliverThroughOutbox(dir, null, {
    budgetMs: 30_000,
    sendTimeoutMs: 30_000,
    lockWaitMs: 5_000,
    send: async (m) => {
      if (agentId !== undefined) {
        const p = parseMessage(m);
        if (p.ok && !authorsOf(p.message).includes(agentId)) {
          return {
            kind: "refused",
            status: 403,
            detail: `not agent '${agentId}'s to send (it speaks for ${
              authorsOf(p.message)[0]
            })`,
          };
        }
      }
      try {
        const r = await broker.publish(m);
        if (r.ok) return { kind: "delivered" };
        return {
          kind: "refused",
          status: r.error.status,
          detail: r.error.body.error,
        };
      } catch (e) {
        return { kind: "retry", detail: (e as Error).message };
      }
    },
  });
  for (const d of report.dropped) {
    warn(`warning: outbox of ${worktreePath}: dropped a message (${d})`);
  }
  return report.flushed;
}

/** The plugin: ingest each registered worktree's outbox once it is known. */
export function outboxPlugin(opts: OutboxPluginOptions = {}): BrokerPlugin {
  const warn = opts.warn ?? (() => {});
  return {
    name: "outbox",
    start(broker) {
      let closed = false;
      const running = new Set<Promise<unknown>>();
      const ingest = (path: string, agentId: string) => {
        if (closed) return;
        const p = ingestOutbox(broker, path, warn, agentId).catch((e) =>
          warn(`warning: outbox of ${path}: ${(e as Error).message}`)
        ).finally(() => running.delete(p));
        running.add(p);
      };
      const off = broker.subscribe((ev) => {
        if (ev.kind === "watch") {
          ingest(ev.target.worktree_path, ev.target.agent_id);
        }
      }, { types: [] });
      for (const t of broker.watchTargets()) {
        ingest(t.worktree_path, t.agent_id);
      }
      return async () => {
        closed = true;
        off();
        await Promise.allSettled([...running]);
      };
    },
  };
}
