/**
 * Data types shared by the broker and the logic that reads its log (conflict
 * rules, dashboard model, alerts). Types only; the running broker's interface
 * is `lib/broker/api.ts`.
 * @module
 */
import type { BrokerMessage } from "./messages.ts";
import type { RosterRow } from "./broker_state.ts";

/** A published message with its global sequence number. */
export type LogEntry = {
  seq: number;
  timestamp_unix_secs: number;
  message: BrokerMessage;
};

/** One row of `GET /status` `agents` (sorted by agent_id). */
export type AgentStatusEntry = RosterRow;

/** A worktree registered for watching (seeded or via `POST /watch`). */
export type WatchTarget = {
  agent_id: string;
  worktree_path: string;
  cli: string | null;
};
