/**
 * One-line summaries of broker messages for the dashboard's agent table and
 * message panel, and who "speaks" a message. Pure. The text returned here is
 * already sanitised (safe to draw) and bounded in length.
 * @module
 */
import type { BrokerMessage, MessageType } from "./messages.ts";
import { identityOf, intentPath, MESSAGE_TYPES } from "./messages.ts";
import type { LogEntry } from "./broker_types.ts";
import { oneLine } from "./dashboard_text.ts";

/** Short chip/row name of a type: `agent.status` → `status`. */
export function shortType(type: MessageType): string {
  return type.replace(/^agent\./, "").replace(/^supervisor\./, "");
}

/**
 * The agent a message tells us something about: the row whose Summary and
 * Last Update it feeds. `agent.feedback` is filed under its recipient and
 * `agent.verified` under the verified agent, as on the wire (docs/REFERENCE.md, "Broker wire format").
 */
export function subjectOf(msg: BrokerMessage): string {
  return identityOf(msg);
}

/**
 * The agent that actually sent a message (for activity/stall tracking):
 * feedback is sent by `payload.from`, a verification by `verified_by`.
 */
export function speakerOf(msg: BrokerMessage): string {
  switch (msg.type) {
    case "agent.feedback":
      return msg.payload.from;
    case "agent.verified":
      return msg.payload.verified_by;
    default:
      return identityOf(msg);
  }
}

function files(list: readonly string[], max = 3): string {
  if (list.length === 0) return "";
  const head = list.slice(0, max).join(", ");
  return list.length > max ? `${head} +${list.length - max}` : head;
}

function n(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/**
 * One sanitised line saying what the message means, without the sender id:
 * a status message's own text, an artifact's status and files, what a
 * blocked agent needs, the question asked, an intent's summary, …
 *
 * @example
 * ```ts
 * import { summarize } from "./dashboard_summary.ts";
 * summarize({ type: "agent.question", agent_id: "feat-a",
 *   payload: { question: "Which DB?" } }); // "asks: Which DB?"
 * ```
 */
export function summarize(msg: BrokerMessage, maxChars = 400): string {
  const raw = rawSummary(msg);
  return oneLine(raw, maxChars);
}

function rawSummary(msg: BrokerMessage): string {
  switch (msg.type) {
    case "agent.status": {
      const p = msg.payload;
      const text = p.message?.trim();
      if (text) return text;
      const f = p.modified_files;
      return f.length
        ? `${p.status}: ${n(f.length, "file")} modified (${files(f)})`
        : p.status;
    }
    case "agent.artifact": {
      const p = msg.payload;
      const parts = [p.status];
      if (p.modified_files.length) parts.push(files(p.modified_files));
      if (p.exports.length) parts.push(`exports ${files(p.exports)}`);
      return parts.join(" — ");
    }
    case "agent.blocked":
      return `blocked: needs ${msg.payload.needs} from ${msg.payload.from}`;
    case "agent.verified":
      return `verified by ${msg.payload.verified_by}${
        msg.payload.message ? ` — ${msg.payload.message}` : ""
      }`;
    case "agent.feedback":
      return `feedback from ${msg.payload.from}: ${
        n(msg.payload.errors.length, "error")
      } — ${msg.payload.errors[0] ?? ""}`;
    case "agent.question":
      return `asks: ${msg.payload.question}`;
    case "agent.intent":
      return `intends: ${msg.payload.summary} (${
        files(msg.payload.files.map(intentPath))
      })`;
    case "agent.advanced-main":
      return `merged ${msg.merged_branch} → ${msg.base} (${
        msg.new_main_sha.slice(0, 7)
      })${msg.summary ? ` — ${msg.summary}` : ""}`;
    case "agent.learning":
      return `learning (${msg.payload.category}): ${msg.payload.title}`;
    case "supervisor.verify-now":
      return "verification requested";
    case "approval.request":
      return `approval ${
        msg.payload.mode === "pane" ? "asked in the pane" : "requested"
      }: ${msg.payload.tool}: ${msg.payload.what}`;
    case "approval.decision":
      return `approval ${msg.payload.request}: ${msg.payload.decision} (${msg.payload.by})${
        msg.payload.reason ? ` — ${msg.payload.reason}` : ""
      }`;
  }
}

/**
 * Wall-clock time of a log entry as the dashboards show it: `HH:MM:SS` UTC
 * (`??:??:??` for a timestamp that is not a time).
 */
export function clockText(unixSecs: number): string {
  const d = new Date(unixSecs * 1000);
  if (Number.isNaN(d.getTime())) return "??:??:??";
  return d.toISOString().slice(11, 19);
}

/**
 * A log entry as one message row: what every view (TUI panel, web page)
 * shows for it. Every field is sanitised and bounded. A message that does
 * not have the shape of its type (an old or hand-edited log) still gets a
 * row: id `?` and its JSON as the text.
 */
export type MessageLine = {
  type: MessageType;
  /** Who the message is about (its row in the agent table). */
  id: string;
  /** {@link clockText} of the entry's timestamp. */
  time: string;
  /** {@link summarize} of the message. */
  text: string;
};

/** {@link MessageLine.id} alone: the row an entry feeds ("?" when unreadable). */
export function messageSubject(entry: LogEntry): string {
  try {
    return oneLine(subjectOf(entry.message), 80);
  } catch {
    return "?";
  }
}

/**
 * The one text of a log entry (see {@link MessageLine}).
 *
 * @example
 * ```ts
 * import { messageLine } from "./dashboard_summary.ts";
 * messageLine({ seq: 1, timestamp_unix_secs: 0, message: { type:
 *   "agent.question", agent_id: "feat-a", payload: { question: "DB?" } } });
 * // { type: "agent.question", id: "feat-a", time: "00:00:00", text: "asks: DB?" }
 * ```
 */
export function messageLine(entry: LogEntry): MessageLine {
  const id = messageSubject(entry);
  const time = clockText(entry.timestamp_unix_secs);
  try {
    return {
      type: entry.message.type,
      id,
      time,
      text: summarize(entry.message),
    };
  } catch {
    const raw = (entry.message as { type?: unknown } | null)?.type;
    const type = (MESSAGE_TYPES as readonly unknown[]).includes(raw)
      ? raw as MessageType
      : "agent.status";
    return {
      type,
      id,
      time,
      text: oneLine(JSON.stringify(entry.message) ?? "", 200),
    };
  }
}
