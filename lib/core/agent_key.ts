/**
 * Per-agent credentials (docs/REFERENCE.md, "Broker wire format"): the
 * header that carries an agent's key, the key file's format and which
 * identities may author a message. Pure, and free of zod: the CLI hooks load
 * it on every tool call.
 *
 * The key file (`<git-dir>/paw-agent-key` of an agent worktree, the
 * supervisor's in the session's state dir) is a curl config file: one
 * `header = "X-Git-Paw-Agent-Key: <key>"` line and, when the broker wants a
 * bearer token, a `header = "Authorization: Bearer <token>"` line, so
 * `curl -K <file>` sends both and the helper reads the same file. (Not
 * `curl -H @<file>`: Gemini CLI reads an `@<path>` in a prompt as a file to
 * include, and asks before reading one outside the worktree.) Bare header
 * lines, as the first version of the file had, are read too.
 * @module
 */
import type { BrokerMessage } from "./messages.ts";
import { isSlug, slugify, SUPERVISOR_ID } from "./slug.ts";

/** The request header that carries an agent's key (sent lower-cased too). */
export const AGENT_KEY_HEADER = "X-Git-Paw-Agent-Key";

/** File name of an agent's key file inside its worktree's git dir. */
export const AGENT_KEY_FILE = "paw-agent-key";

/** File name of the supervisor's key file inside the session's state dir. */
export const SUPERVISOR_KEY_FILE = "supervisor-key";

/** What a key must look like: 22–128 URL-safe base64 characters. */
const AGENT_KEY_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;

/** The contents of a key file. */
export type AgentKeyFile = { key: string; token?: string };

/**
 * Render a key file. Pure.
 *
 * @example
 * ```ts
 * import { renderAgentKeyFile } from "./agent_key.ts";
 * renderAgentKeyFile({ key: "k".repeat(43) });
 * // "header = \"X-Git-Paw-Agent-Key: kkk…\"\n"
 * ```
 */
export function renderAgentKeyFile(f: AgentKeyFile): string {
  return `header = "${AGENT_KEY_HEADER}: ${f.key}"\n` +
    (f.token ? `header = "Authorization: Bearer ${f.token}"\n` : "");
}

/**
 * Parse a key file; null when it holds no well-formed key. Pure.
 *
 * @example
 * ```ts
 * import { parseAgentKeyFile } from "./agent_key.ts";
 * parseAgentKeyFile("X-Git-Paw-Agent-Key: " + "a".repeat(43) + "\n")?.key.length; // 43
 * ```
 */
export function parseAgentKeyFile(text: string): AgentKeyFile | null {
  let key: string | null = null;
  let token: string | undefined;
  for (const raw of text.split("\n")) {
    // `header = "Name: value"` (curl -K), or a bare `Name: value`.
    const conf = /^\s*header\s*=?\s*"(.*)"\s*$/.exec(raw.replace(/\r$/, ""));
    const line = conf ? conf[1]! : raw.replace(/\r$/, "");
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === AGENT_KEY_HEADER.toLowerCase()) key = value;
    if (name === "authorization" && /^Bearer \S+$/.test(value)) {
      token = value.slice("Bearer ".length);
    }
  }
  if (key === null || !AGENT_KEY_PATTERN.test(key)) return null;
  return token ? { key, token } : { key };
}

/**
 * The identities whose key may send `msg` (any one of them): the one the
 * message speaks for — the sender of `agent.feedback` (`payload.from`), the
 * verifier of `agent.verified` (`payload.verified_by`), `from` of
 * `agent.advanced-main`, `payload.agent_id` of a learning, the envelope id
 * otherwise. Feedback an agent files to itself (the branch guard's, from
 * the post-commit hook) may also come with the recipient's key, and any
 * feedback with the supervisor's (it files feedback under a tool's name,
 * `merge-queue`), unless it claims to come from the supervisor, which
 * needs the supervisor's key alone; `supervisor.verify-now` may also come
 * from the supervisor. Ids are the normalised slugs. Pure.
 */
export function authorsOf(msg: BrokerMessage): string[] {
  switch (msg.type) {
    case "agent.feedback": {
      const from = isSlug(msg.payload.from)
        ? msg.payload.from
        : slugify(msg.payload.from);
      if (from === SUPERVISOR_ID) return [from];
      // Also: feedback to oneself, and the supervisor's (and the user's
      // git-paw commands') under a tool's name (`merge-queue`).
      return from === msg.agent_id
        ? [from, SUPERVISOR_ID]
        : [from, msg.agent_id, SUPERVISOR_ID];
    }
    case "agent.verified":
      return [msg.payload.verified_by];
    case "agent.advanced-main":
      return [msg.from];
    case "agent.learning":
      return [msg.payload.agent_id];
    case "supervisor.verify-now":
      return msg.branch_id === SUPERVISOR_ID
        ? [SUPERVISOR_ID]
        : [msg.branch_id, SUPERVISOR_ID];
    default:
      return [msg.agent_id];
  }
}
