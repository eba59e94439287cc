/**
 * The broker's wire vocabulary: one zod schema per message type (docs/REFERENCE.md, "Broker wire format"),
 * the TypeScript types inferred from them, and `parseMessage()` which turns an
 * untrusted JSON value into a normalised message or a 400-style error. Pure.
 * @module
 */
import { z } from "zod";
import { isSlug, slugify, SUPERVISOR_ID } from "./slug.ts";
import { branchNameProblem } from "./refname.ts";

/** Every message type the broker accepts, in dashboard chip order. */
export const MESSAGE_TYPES = [
  "agent.status",
  "agent.artifact",
  "agent.blocked",
  "agent.verified",
  "agent.feedback",
  "agent.question",
  "agent.intent",
  "supervisor.verify-now",
  "agent.advanced-main",
  "agent.learning",
  "approval.request",
  "approval.decision",
] as const;
/** One of {@link MESSAGE_TYPES}. */
export type MessageType = typeof MESSAGE_TYPES[number];

const PLACEHOLDER = /^<.*>$/s;

function nonBlank(field: string) {
  return z.string({ error: `${field} must be a string` }).refine(
    (s) => s.trim() !== "",
    { message: `${field} must not be blank` },
  );
}

const optionalText = z.string().nullish().transform((v) => v ?? null);
const stringList = (field: string) =>
  z.array(z.string(), { error: `${field} must be an array of strings` })
    .nullish().transform((v) => v ?? []);

/** A raw agent id as sent by a client: a branch name or its slug. */
const AgentIdInput = z.string({ error: "agent_id must be a string" })
  .min(1, "agent_id must not be empty")
  .max(255, "agent_id must be at most 255 characters")
  .refine((s) => !/[\s\p{Cc}]/u.test(s), {
    message: "agent_id must not contain whitespace or control characters",
  })
  .refine((s) => /[A-Za-z0-9_]/.test(s), {
    message: "agent_id must contain at least one letter, digit or underscore",
  })
  .superRefine((s, ctx) => {
    // A branch name or the slug of one: what git refuses is refused here
    // too (`../../etc`, `-x`, `a..b`), never slugged into something else.
    const why = branchNameProblem(s);
    if (why !== null) {
      ctx.addIssue({
        code: "custom",
        message: `agent_id must be a valid branch name: ${why}`,
      });
    }
  });

/**
 * A client message id (`msg_id`, top level, optional): a sender that may
 * send one message twice (the helper and the hooks deliver from an outbox
 * after the broker was down) names it, and the broker stores a message
 * whose (sender, msg_id) it already holds only once. Senders that leave it
 * out (the original's agents) are not affected.
 */
const MsgId = z.string({ error: "msg_id must be a string" }).regex(
  /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  { message: "msg_id must be 1-128 letters, digits, '.', '_', ':' or '-'" },
);
const CLIENT_ID = { msg_id: MsgId.optional() };

/** A code region inside a file named by an intent. */
export const Region = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("function"), name: nonBlank("region name") }),
  z.object({ kind: z.literal("class"), name: nonBlank("region name") }),
  z.object({ kind: z.literal("block"), anchor: nonBlank("region anchor") }),
  z.object({
    kind: z.literal("range"),
    start_line: z.number().int().min(1),
    end_line: z.number().int().min(1),
  }).refine((r) => r.start_line <= r.end_line, {
    message: "range start_line must be <= end_line",
  }),
], { error: "region kind must be one of function, class, block, range" });
export type Region = z.infer<typeof Region>;

/** A file named by an intent: a bare path or `{path, regions?}`. */
export const IntentFile = z.union([
  nonBlank("file path"),
  z.object({
    path: nonBlank("file path"),
    regions: z.array(Region).nullish().transform((v) => v ?? undefined),
  }),
], { error: "each file must be a path string or {path, regions}" });
export type IntentFile = z.infer<typeof IntentFile>;

/** `agent.status`: what an agent is doing; routed to nobody. */
export const StatusMessage = z.object({
  type: z.literal("agent.status"),
  agent_id: z.string(),
  payload: z.object({
    status: nonBlank("payload.status"),
    modified_files: stringList("payload.modified_files"),
    message: optionalText,
    cli: optionalText,
    phase: optionalText,
    detail: z.unknown().optional(),
  }),
}).extend(CLIENT_ID);
/** `agent.artifact`: work produced (e.g. a commit); broadcast to peers. */
const ArtifactMessage = z.object({
  type: z.literal("agent.artifact"),
  agent_id: z.string(),
  payload: z.object({
    status: nonBlank("payload.status"),
    exports: stringList("payload.exports"),
    modified_files: stringList("payload.modified_files"),
    /**
     * Commit id of a `committed` artifact (git-paw's hook and watcher send
     * it; the broker keeps one artifact per agent and commit). Optional:
     * older senders leave it out.
     */
    commit: z.string().regex(/^[0-9a-f]{7,64}$/, {
      message: "payload.commit must be a hex commit id",
    }).optional(),
  }),
}).extend(CLIENT_ID);
/** `agent.blocked`: the sender needs something from agent `from`. */
const BlockedMessage = z.object({
  type: z.literal("agent.blocked"),
  agent_id: z.string(),
  payload: z.object({
    needs: nonBlank("payload.needs"),
    from: nonBlank("payload.from"),
  }),
}).extend(CLIENT_ID);
/** `agent.verified`: envelope id is the verified agent. */
const VerifiedMessage = z.object({
  type: z.literal("agent.verified"),
  agent_id: z.string(),
  payload: z.object({
    verified_by: nonBlank("payload.verified_by"),
    message: optionalText,
  }),
}).extend(CLIENT_ID);
/** `agent.feedback`: envelope id is the recipient. */
export const FeedbackMessage = z.object({
  type: z.literal("agent.feedback"),
  agent_id: z.string(),
  payload: z.object({
    from: nonBlank("payload.from"),
    errors: z.array(z.string(), {
      error: "payload.errors must be an array of strings",
    }).min(1, "payload.errors must not be empty"),
  }),
}).extend(CLIENT_ID);
/** `agent.question`: routed to the supervisor. */
export const QuestionMessage = z.object({
  type: z.literal("agent.question"),
  agent_id: z.string(),
  payload: z.object({ question: nonBlank("payload.question") }),
}).extend(CLIENT_ID);
/** `agent.intent`: files the sender is about to edit. */
const IntentMessage = z.object({
  type: z.literal("agent.intent"),
  agent_id: z.string(),
  payload: z.object({
    files: z.array(IntentFile, { error: "payload.files must be an array" })
      .min(1, "payload.files must not be empty"),
    summary: nonBlank("payload.summary"),
    valid_for_seconds: z.number({
      error: "payload.valid_for_seconds must be a number",
    }).int().positive("payload.valid_for_seconds must be > 0")
      .optional().default(900),
  }),
}).extend(CLIENT_ID);
/** `agent.advanced-main` (flat): the supervisor merged into main. */
const AdvancedMainMessage = z.object({
  type: z.literal("agent.advanced-main"),
  from: z.string(),
  merged_branch: nonBlank("merged_branch"),
  new_main_sha: nonBlank("new_main_sha"),
  base: nonBlank("base"),
  merged_at: nonBlank("merged_at").refine((s) => !Number.isNaN(Date.parse(s)), {
    message: "merged_at must be an RFC 3339 timestamp",
  }),
  summary: optionalText,
}).extend(CLIENT_ID);
/** `agent.learning`: a lesson for the session learnings file. */
export const LearningMessage = z.object({
  type: z.literal("agent.learning"),
  payload: z.object({
    id: z.string(),
    agent_id: z.string(),
    branch_id: z.string().nullish().transform((v) => v ?? null),
    category: nonBlank("payload.category"),
    title: nonBlank("payload.title"),
    body: z.string(),
    timestamp: nonBlank("payload.timestamp"),
  }),
}).extend(CLIENT_ID);
/** `supervisor.verify-now` (flat): ask the supervisor to verify a branch. */
const VerifyNowMessage = z.object({
  type: z.literal("supervisor.verify-now"),
  branch_id: z.string(),
}).extend(CLIENT_ID);

/**
 * `approval.request`: a tool call of an agent's CLI waiting for a decision
 * (or decided at once by the policy). Its seq is the approval's id. Filed
 * by the approvals plugin only (`POST /publish` refuses it); delivered to
 * the supervisor.
 */
export const ApprovalRequestMessage = z.object({
  type: z.literal("approval.request"),
  agent_id: z.string(),
  payload: z.object({
    cli: optionalText,
    /** The CLI's tool name (`Bash`, `Write`, `run_shell_command`, …). */
    tool: nonBlank("payload.tool"),
    /** The command, or the paths written. */
    what: z.string(),
    cwd: optionalText,
    /** `queue`: git-paw decides; `pane`: the CLI's own prompt did. */
    mode: z.enum(["queue", "pane"]),
    /** Why the policy did not decide (queue mode). */
    why: optionalText,
  }),
}).extend(CLIENT_ID);
/** `approval.decision`: the one decision of an `approval.request`. */
export const ApprovalDecisionMessage = z.object({
  type: z.literal("approval.decision"),
  agent_id: z.string(),
  payload: z.object({
    /** Seq of the request. */
    request: z.number().int().positive(),
    /** `pane`: answered at the CLI's own prompt (outcome not known). */
    decision: z.enum(["allow", "deny", "pane"]),
    /** Who or which rule decided: `policy: allow git add *`, `user via cli`, `web`, `timeout`, `pane`. */
    by: nonBlank("payload.by"),
    reason: optionalText,
  }),
}).extend(CLIENT_ID);

/** Any broker message. */
export const BrokerMessage = z.discriminatedUnion("type", [
  StatusMessage,
  ArtifactMessage,
  BlockedMessage,
  VerifiedMessage,
  FeedbackMessage,
  QuestionMessage,
  IntentMessage,
  AdvancedMainMessage,
  LearningMessage,
  VerifyNowMessage,
  ApprovalRequestMessage,
  ApprovalDecisionMessage,
]);
export type BrokerMessage = z.infer<typeof BrokerMessage>;
export type StatusMessage = z.infer<typeof StatusMessage>;
type ArtifactMessage = z.infer<typeof ArtifactMessage>;
type BlockedMessage = z.infer<typeof BlockedMessage>;
type VerifiedMessage = z.infer<typeof VerifiedMessage>;
export type FeedbackMessage = z.infer<typeof FeedbackMessage>;
export type QuestionMessage = z.infer<typeof QuestionMessage>;
type IntentMessage = z.infer<typeof IntentMessage>;
type AdvancedMainMessage = z.infer<typeof AdvancedMainMessage>;
export type LearningMessage = z.infer<typeof LearningMessage>;
type VerifyNowMessage = z.infer<typeof VerifyNowMessage>;
export type ApprovalRequestMessage = z.infer<typeof ApprovalRequestMessage>;
export type ApprovalDecisionMessage = z.infer<typeof ApprovalDecisionMessage>;

/** `POST /watch` body. */
const WatchRequest = z.object({
  agent_id: z.string(),
  worktree_path: z.string({ error: "worktree_path must be a string" }),
  cli: z.string().nullish().transform((v) => v ?? null),
});
type WatchRequest = z.infer<typeof WatchRequest>;

/** A 4xx answer: HTTP status and the JSON body to send. */
export type WireError = {
  status: 400;
  body: { error: string; [k: string]: unknown };
};

/** Result of {@link parseMessage}. */
export type ParseResult =
  | { ok: true; message: BrokerMessage; agentId: string }
  | { ok: false; error: WireError };

function fail(error: string, extra: Record<string, unknown> = {}): {
  ok: false;
  error: WireError;
} {
  return { ok: false, error: { status: 400, body: { error, ...extra } } };
}

function zodText(err: z.ZodError): string {
  return err.issues.map((i) => {
    const path = i.path.join(".");
    return path && !i.message.startsWith(path)
      ? `${path}: ${i.message}`
      : i.message;
  }).join("; ");
}

/**
 * Validate an agent identity and return its slug, or a wire error. Any valid
 * branch name is accepted (`feat/x` is filed as `feat-x`); a name git would
 * refuse as a branch (`../../etc`, a leading `-`, `..`, `~`, `:`) is a 400.
 */
export function normaliseAgentId(
  value: unknown,
  field = "agent_id",
): { ok: true; id: string } | { ok: false; error: WireError } {
  if (typeof value === "string" && PLACEHOLDER.test(value)) {
    return placeholder(field, value);
  }
  const r = AgentIdInput.safeParse(value);
  if (!r.success) {
    return fail("invalid agent_id", {
      field,
      value: value ?? null,
      detail: zodText(r.error),
    });
  }
  return { ok: true, id: isSlug(r.data) ? r.data : slugify(r.data) };
}

function placeholder(field: string, value: string) {
  return fail("field looks like an unfilled placeholder", {
    field,
    value,
    detail: "substitute the real value before publishing",
  });
}

/** The identity a message speaks for (docs/REFERENCE.md, "Broker wire format"). */
export function identityOf(msg: BrokerMessage): string {
  switch (msg.type) {
    case "agent.advanced-main":
      return msg.from;
    case "agent.learning":
      return msg.payload.agent_id;
    case "supervisor.verify-now":
      return msg.branch_id;
    default:
      return msg.agent_id;
  }
}

/**
 * Parse an untrusted JSON value into a normalised {@link BrokerMessage}.
 * Identities are slugged; placeholders like `<agent_id>` are refused.
 */
export function parseMessage(input: unknown): ParseResult {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return fail("invalid message JSON: expected an object");
  }
  const type = (input as { type?: unknown }).type;
  if (typeof type !== "string") {
    return fail("invalid message JSON: missing field `type`");
  }
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) {
    return fail(
      `invalid message JSON: unknown message type '${type}'; expected one of ${
        MESSAGE_TYPES.join(", ")
      }`,
    );
  }
  const r = BrokerMessage.safeParse(input);
  if (!r.success) return fail(`invalid message JSON: ${zodText(r.error)}`);
  const msg = r.data;
  // Placeholder rejection on free-text fields that agents copy from recipes.
  const texts: Array<[string, string]> = [];
  if (msg.type === "agent.question") {
    texts.push(["question", msg.payload.question]);
  }
  if (msg.type === "agent.blocked") texts.push(["needs", msg.payload.needs]);
  if (msg.type === "agent.feedback") {
    msg.payload.errors.forEach((e) => texts.push(["errors", e]));
  }
  for (const [field, value] of texts) {
    if (PLACEHOLDER.test(value)) return placeholder(field, value);
  }
  // Identity normalisation.
  const idField = msg.type === "agent.advanced-main"
    ? "from"
    : msg.type === "agent.learning"
    ? "payload.agent_id"
    : msg.type === "supervisor.verify-now"
    ? "branch_id"
    : "agent_id";
  const id = normaliseAgentId(identityOf(msg), idField);
  if (!id.ok) return id;
  switch (msg.type) {
    case "agent.advanced-main":
      msg.from = id.id;
      break;
    case "agent.learning": {
      msg.payload.agent_id = id.id;
      if (msg.payload.branch_id) {
        const b = normaliseAgentId(msg.payload.branch_id, "payload.branch_id");
        if (!b.ok) return b;
        msg.payload.branch_id = b.id;
      }
      break;
    }
    case "supervisor.verify-now":
      msg.branch_id = id.id;
      break;
    case "agent.blocked": {
      msg.agent_id = id.id;
      const f = normaliseAgentId(msg.payload.from, "payload.from");
      if (!f.ok) return f;
      msg.payload.from = f.id;
      break;
    }
    case "agent.verified": {
      msg.agent_id = id.id;
      const v = normaliseAgentId(
        msg.payload.verified_by,
        "payload.verified_by",
      );
      if (!v.ok) return v;
      msg.payload.verified_by = v.id;
      break;
    }
    default:
      msg.agent_id = id.id;
  }
  return { ok: true, message: msg, agentId: id.id };
}

/** Parse a `POST /watch` body. */
export function parseWatch(
  input: unknown,
): { ok: true; value: WatchRequest } | { ok: false; error: WireError } {
  const r = WatchRequest.safeParse(input);
  if (!r.success) return fail(`invalid watch JSON: ${zodText(r.error)}`);
  if (r.data.worktree_path.trim() === "") {
    return fail("worktree_path must not be empty");
  }
  if (PLACEHOLDER.test(r.data.worktree_path)) {
    return placeholder("worktree_path", r.data.worktree_path);
  }
  const id = normaliseAgentId(r.data.agent_id);
  if (!id.ok) return id;
  return { ok: true, value: { ...r.data, agent_id: id.id } };
}

/**
 * The roster label a message sets for its sender, or null for types that do
 * not touch the roster (docs/REFERENCE.md, "Delivery and roster").
 */
export function statusLabel(msg: BrokerMessage): string | null {
  switch (msg.type) {
    case "agent.status":
    case "agent.artifact":
      return msg.payload.status;
    case "agent.blocked":
      return "blocked";
    case "agent.intent":
      return "intent";
    default:
      return null;
  }
}

/** Path of an intent file entry. */
export function intentPath(f: IntentFile): string {
  return typeof f === "string" ? f : f.path;
}

/**
 * One-line human rendering of a message, starting with `[<id>]` (docs/REFERENCE.md, "Broker log").
 */
export function displayMessage(msg: BrokerMessage): string {
  const id = identityOf(msg);
  switch (msg.type) {
    case "agent.status":
      return `[${id}] status: ${msg.payload.status} (${msg.payload.modified_files.length} files modified)`;
    case "agent.artifact":
      return `[${id}] artifact: ${msg.payload.status}${
        msg.payload.exports.length
          ? ` — exports: ${msg.payload.exports.join(", ")}`
          : ""
      }`;
    case "agent.blocked":
      return `[${id}] blocked: needs ${msg.payload.needs} from ${msg.payload.from}`;
    case "agent.verified":
      return `[${id}] verified by ${msg.payload.verified_by}${
        msg.payload.message ? ` — ${msg.payload.message}` : ""
      }`;
    case "agent.feedback":
      return `[${id}] feedback from ${msg.payload.from}: ${msg.payload.errors.length} errors`;
    case "agent.question":
      return `[${id}] question: ${msg.payload.question}`;
    case "agent.intent":
      return `[${id}] intent: ${msg.payload.files.length} files for ${msg.payload.valid_for_seconds}s — ${msg.payload.summary}`;
    case "agent.advanced-main":
      return `[${id}] advanced-main: ${msg.merged_branch} → ${msg.base} (${msg.new_main_sha})`;
    case "agent.learning":
      return `[${id}] learning (${msg.payload.category}/${
        msg.payload.branch_id ?? "*"
      }): ${msg.payload.title}`;
    case "supervisor.verify-now":
      return `[${id}] verify-now`;
    case "approval.request":
      return `[${id}] approval requested (${msg.payload.mode}): ${msg.payload.tool}: ${msg.payload.what}`;
    case "approval.decision":
      return `[${id}] approval ${msg.payload.request}: ${msg.payload.decision} by ${msg.payload.by}${
        msg.payload.reason ? ` — ${msg.payload.reason}` : ""
      }`;
  }
}

/** Re-exported for convenience: the supervisor's reserved id. */
export { SUPERVISOR_ID };
