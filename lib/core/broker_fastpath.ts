/**
 * A hand-written validator for the broker's hottest message, a plain
 * `agent.status` with a slug agent id. It answers only when the input is
 * unambiguous and then returns exactly what `parseMessage()` would (same
 * values, same key order); for anything else it returns `null` and the
 * caller falls back to the zod schemas, which stay the single source of
 * truth. Tested for equivalence in tests/broker/broker_fastpath_test.ts.
 * Pure.
 * @module
 */
import type { ParseResult, StatusMessage } from "./messages.ts";

// A slug that is also a valid branch name: no leading `-`.
const SLUG = /^[a-z0-9_][a-z0-9_-]{0,254}$/;
const TOP_KEYS = new Set(["type", "agent_id", "payload", "msg_id"]);
const MSG_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const PAYLOAD_KEYS = new Set([
  "status",
  "modified_files",
  "message",
  "cli",
  "phase",
  "detail",
]);

function optText(v: unknown): string | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === "string" ? v : undefined;
}

/**
 * Validate a common `agent.status` without zod. `null` means "not sure, use
 * `parseMessage()`" — never a rejection.
 */
export function fastParseStatus(input: unknown): ParseResult | null {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return null;
  }
  const o = input as Record<string, unknown>;
  if (o.type !== "agent.status") return null;
  for (const k in o) if (!TOP_KEYS.has(k)) return null;
  const id = o.agent_id;
  if (typeof id !== "string" || !SLUG.test(id)) {
    return null;
  }
  const msgId = o.msg_id;
  if (
    msgId !== undefined && (typeof msgId !== "string" || !MSG_ID.test(msgId))
  ) {
    return null;
  }
  const p = o.payload;
  if (typeof p !== "object" || p === null || Array.isArray(p)) return null;
  const pl = p as Record<string, unknown>;
  for (const k in pl) if (!PAYLOAD_KEYS.has(k)) return null;
  const status = pl.status;
  if (typeof status !== "string" || status.trim() === "") return null;
  let files: string[];
  const mf = pl.modified_files;
  if (mf === undefined || mf === null) files = [];
  else if (Array.isArray(mf)) {
    for (const f of mf) if (typeof f !== "string") return null;
    files = mf as string[];
  } else return null;
  const message = optText(pl.message);
  const cli = optText(pl.cli);
  const phase = optText(pl.phase);
  if (message === undefined || cli === undefined || phase === undefined) {
    return null;
  }
  const payload: StatusMessage["payload"] = {
    status,
    modified_files: files,
    message,
    cli,
    phase,
  };
  if ("detail" in pl) payload.detail = pl.detail;
  const msg: StatusMessage = { type: "agent.status", agent_id: id, payload };
  if (msgId !== undefined) msg.msg_id = msgId;
  return { ok: true, message: msg, agentId: id };
}
