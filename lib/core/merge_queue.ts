/**
 * The merge queue's decisions (`git paw merge`), pure: the order branches go
 * in (blocked-on relations the agents published, then commit order), and
 * the words for what was left out and why.
 * @module
 */
import type { LogEntry } from "./broker_types.ts";
import { failingLines } from "./integration.ts";

/** One branch waiting in the queue. */
export type QueueItem = {
  agent: string;
  branch: string;
  commit: string;
  /** Commit time of the branch tip (unix seconds). */
  time: number;
};

/**
 * `[before, after]` pairs from the log: an `agent.blocked` from X with
 * `from: Y` means X needs Y's work, so Y goes first.
 */
export function blockedEdges(entries: readonly LogEntry[]): Array<
  [string, string]
> {
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const m = e.message;
    if (m.type !== "agent.blocked") continue;
    const k = `${m.payload.from}\0${m.agent_id}`;
    if (m.payload.from === m.agent_id || seen.has(k)) continue;
    seen.add(k);
    out.push([m.payload.from, m.agent_id]);
  }
  return out;
}

/**
 * Queue order: every branch after the branches it is blocked on, otherwise
 * oldest tip commit first (then agent id). A cycle is broken by commit
 * order once nothing else can go. Edges naming agents not in the queue are
 * ignored.
 *
 * @example
 * ```ts
 * import { mergeOrder } from "./merge_queue.ts";
 * const items = [
 *   { agent: "a", branch: "a", commit: "1", time: 1 },
 *   { agent: "b", branch: "b", commit: "2", time: 2 },
 * ];
 * mergeOrder(items, [["b", "a"]]).map((i) => i.agent); // ["b", "a"]
 * ```
 */
export function mergeOrder(
  items: readonly QueueItem[],
  edges: ReadonlyArray<readonly [string, string]>,
): QueueItem[] {
  const byAgent = new Map(items.map((i) => [i.agent, i]));
  const needs = new Map<string, Set<string>>();
  for (const i of items) needs.set(i.agent, new Set());
  for (const [before, after] of edges) {
    if (byAgent.has(before) && byAgent.has(after)) {
      needs.get(after)!.add(before);
    }
  }
  const older = (a: QueueItem, b: QueueItem) =>
    a.time - b.time || (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0);
  const left = [...items].sort(older);
  const out: QueueItem[] = [];
  const placed = new Set<string>();
  while (left.length > 0) {
    let at = left.findIndex((i) =>
      [...needs.get(i.agent)!].every((n) => placed.has(n))
    );
    if (at < 0) at = 0; // a cycle: the oldest goes first
    const [next] = left.splice(at, 1);
    out.push(next!);
    placed.add(next!.agent);
  }
  return out;
}

/** Why a branch was left out. */
export type LeftOut =
  | { kind: "conflict"; files: string[] }
  | { kind: "test"; command: string[]; code: number; output: string };

/** One line naming a left-out branch and why (for the command's report). */
export function leftOutLine(branch: string, why: LeftOut): string {
  if (why.kind === "conflict") {
    return `${branch}: conflicts with the target in ${why.files.join(", ")}`;
  }
  return `${branch}: the merged result fails \`${
    why.command.join(" ")
  }\` (exit ${why.code})`;
}

/** The feedback a left-out agent gets. */
export function leftOutFeedback(
  item: Pick<QueueItem, "branch">,
  target: string,
  why: LeftOut,
): string {
  if (why.kind === "conflict") {
    return `[merge] your branch ${item.branch} was left out of the merge into ${target}: it conflicts with ${target} in ${
      why.files.join(", ")
    }. Rebase on ${target} and resolve them.`;
  }
  const lines = failingLines(why.output).map((l) => `  ${l}`).join("\n");
  return `[merge] your branch ${item.branch} was left out of the merge into ${target}: merged onto ${target} it fails \`${
    why.command.join(" ")
  }\` (exit ${why.code}). Rebase on ${target} and fix; first failing lines:\n${lines}`;
}
