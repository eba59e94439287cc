/**
 * The boot block given to each agent at launch (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"): register, finish,
 * blocked and question recipes, each with the `git paw` helper first and plain
 * curl second. Pure.
 * @module
 */
import { BOOT_BLOCK_TEMPLATE } from "./assets/boot_block_template.ts";

/** Upper bound for the rendered boot block, in UTF-8 bytes. */
export const BOOT_BLOCK_MAX_BYTES = 4096;

/** The curl option that sends the session's bearer token (from the pane's env). */
export const BROKER_AUTH_HEADER =
  `-H "Authorization: Bearer $GIT_PAW_BROKER_TOKEN"`;

/**
 * Add {@link BROKER_AUTH_HEADER} to every `curl -s` recipe in `text`, for a
 * broker that listens beyond loopback and so wants the token. The `git paw`
 * helper recipes need nothing: the helper reads the token itself. Pure.
 */
export function withBrokerAuth(text: string): string {
  return text.replace(/\bcurl -s(?= )/g, `curl -s ${BROKER_AUTH_HEADER}`);
}

/** Quote one word for POSIX sh (unchanged when it needs no quotes). */
function shWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The curl option that reads the agent's key file (`-K <file>`, a curl
 * config file with its `X-Git-Paw-Agent-Key` header and, when the broker
 * wants one, the bearer token; lib/core/agent_key.ts). No `@<path>`: Gemini
 * CLI would take it for a file to include in the prompt. Pure.
 */
export function agentKeyOption(keyFile: string): string {
  return `-K ${shWord(keyFile)}`;
}

/**
 * Add the agent's key file ({@link agentKeyOption}) to every `curl -s`
 * recipe in `text`: a session broker takes an agent's messages only with
 * its key. Pure.
 */
export function withAgentKey(text: string, keyFile: string): string {
  const opt = agentKeyOption(keyFile);
  return text.replace(/\bcurl -s(?= )/g, () => `curl -s ${opt}`);
}

/**
 * Render the boot block for one agent.
 *
 * @param opts.agentId the agent's broker id (its branch slug)
 * @param opts.brokerUrl `http://127.0.0.1:<port>`
 * @param opts.auth the broker wants the bearer token ({@link withBrokerAuth})
 * @param opts.keyFile the agent's key file ({@link withAgentKey}; it holds
 *   the token too, so `auth` is then not needed)
 * @returns Markdown starting with `## BOOT INSTRUCTIONS - DO NOT REMOVE`
 */
export function renderBootBlock(
  opts: {
    agentId: string;
    brokerUrl: string;
    auth?: boolean;
    keyFile?: string;
  },
): string {
  const url = opts.brokerUrl.replace(/\/+$/, "");
  // The id sits inside a single-quoted shell word in the curl recipes.
  const idJson = JSON.stringify(opts.agentId).replaceAll("'", "'\\''");
  const values: Record<string, string> = {
    BRANCH_ID: opts.agentId,
    GIT_PAW_BROKER_URL: url,
    ID_JSON: idJson,
  };
  const text = BOOT_BLOCK_TEMPLATE.replace(
    /\{\{([A-Z_]+)\}\}/g,
    (all, name: string) => values[name] ?? all,
  );
  if (opts.keyFile) return withAgentKey(text, opts.keyFile);
  return opts.auth ? withBrokerAuth(text) : text;
}
