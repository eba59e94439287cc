/**
 * What the MCP server says about itself in its `initialize` answer, apart
 * from the SDK and the tools (the fast start, {@link ./front.ts}, answers
 * with it before they load).
 * @module
 */

const INSTRUCTIONS =
  "git-paw state of this repository: agent intents and conflicts, session status and learnings, governance documents, specs and tasks, agent skills, git history, and the working tree (list_files, read_file, search_code; confined to the repo, ignored files refused). Tools answer with empty or null results when there is no session or no data.";

const AGENT_INSTRUCTIONS =
  " Agent mode: whoami, publish_status, publish_intent, publish_blocked, publish_question, publish_done and read_inbox coordinate this worktree's agent through the session broker.";

/** The server's instructions, with the agent tools' part in agent mode. */
export function instructionsFor(agent: boolean): string {
  return INSTRUCTIONS + (agent ? AGENT_INSTRUCTIONS : "");
}
