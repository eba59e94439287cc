/**
 * The outbox's names and pure parts (lib/coord/outbox.ts), apart from its
 * file handling and locks (`node:path`, the pid lock): the plain
 * `publish status` path (lib/coord/plain_status.ts) loads only this unless
 * it has to queue.
 * @module
 */

/** File name of the outbox inside a worktree's git dir. */
export const OUTBOX_FILE = "paw-outbox.jsonl";

/** A message on its way: a wire message with its client `msg_id`. */
export type OutboxMessage = Record<string, unknown> & { msg_id: string };

/**
 * What one send did: `delivered` (2xx), `retry` (no answer, a timeout, a
 * 5xx or another answer that says nothing about the message: keep it),
 * `refused` (400/413: the broker will never take it; `detail` says why),
 * `denied` (401/403/421: this sender's token or address is wrong — a new
 * message fails loudly instead of waiting, a queued one stays queued).
 */
export type SendOutcome =
  | { kind: "delivered" }
  | { kind: "retry"; detail: string }
  | { kind: "refused"; status: number; detail: string }
  | { kind: "denied"; status: number; detail: string };

/** A fresh client message id. */
export function newMsgId(): string {
  return crypto.randomUUID();
}

/** Map a broker reply status to a {@link SendOutcome}. */
export function outcomeOfStatus(status: number, detail: string): SendOutcome {
  if (status >= 200 && status < 300) return { kind: "delivered" };
  if (status === 400 || status === 413) {
    return { kind: "refused", status, detail };
  }
  if (status === 401 || status === 403 || status === 421) {
    return { kind: "denied", status, detail };
  }
  return { kind: "retry", detail: `HTTP ${status}: ${detail}` };
}
