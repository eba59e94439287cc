/**
 * The boot block template (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks") as a string module, so it ships inside
 * bundles and compiled binaries. Filled by `renderBootBlock()`.
 * @module
 */

/** Placeholders: `{{BRANCH_ID}}`, `{{GIT_PAW_BROKER_URL}}`, `{{ID_JSON}}`. */
export const BOOT_BLOCK_TEMPLATE = `## BOOT INSTRUCTIONS - DO NOT REMOVE
You are git-paw agent \`{{BRANCH_ID}}\`; the session broker is {{GIT_PAW_BROKER_URL}}.
Use the \`git paw\` helper; each step also shows the plain curl equivalent.

1. Register now:
   git paw publish status working --message booting
   curl -s -X POST {{GIT_PAW_BROKER_URL}}/publish -H 'Content-Type: application/json' -d '{"type":"agent.status","agent_id":{{ID_JSON}},"payload":{"status":"working","message":"booting","modified_files":[]}}'
2. Finish by committing your work; the commit hook tells the others. Only when there
   is nothing to commit:
   git paw done --message "what you did"
   curl -s -X POST {{GIT_PAW_BROKER_URL}}/publish -H 'Content-Type: application/json' -d '{"type":"agent.artifact","agent_id":{{ID_JSON}},"payload":{"status":"done","exports":[],"modified_files":[]}}'
3. Blocked by another agent (name what you need and whose branch has it):
   git paw publish blocked --needs "<what you need>" --from <agent-id>
   curl -s -X POST {{GIT_PAW_BROKER_URL}}/publish -H 'Content-Type: application/json' -d '{"type":"agent.blocked","agent_id":{{ID_JSON}},"payload":{"needs":"<what you need>","from":"<agent-id>"}}'
4. Question for the human: ask, then wait for the answer in your inbox:
   git paw publish question "<your question>" && git paw inbox --wait 60
   curl -s -X POST {{GIT_PAW_BROKER_URL}}/publish -H 'Content-Type: application/json' -d '{"type":"agent.question","agent_id":{{ID_JSON}},"payload":{"question":"<your question>"}}'
   curl -s '{{GIT_PAW_BROKER_URL}}/messages/{{BRANCH_ID}}?since=0&wait=60'

Replace every <...> with real text. More rules: the git-paw section of AGENTS.md.
`;
