/**
 * The embedded `coordination` skill (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"), kept as a string module so it
 * ships inside `deno bundle` / `deno compile` output. A repo overrides it with
 * `.agents/skills/coordination/SKILL.md`. Placeholders are filled by
 * `renderSkill()` in `lib/coord/skills.ts`.
 * @module
 */

/** The template, frontmatter included. */
export const COORDINATION_SKILL_TEMPLATE = `---
name: coordination
description: How a git-paw agent keeps its peers informed through the session broker.
---
## Working alongside other agents

You are agent \`{{BRANCH_ID}}\` of project {{PROJECT_NAME}}. Other agents work on other
branches of this repo at the same time; the broker at {{GIT_PAW_BROKER_URL}} passes
messages between you. Your pane has \`GIT_PAW_AGENT_ID\` and \`GIT_PAW_BROKER_URL\` set,
so the \`git paw\` helper below needs no ids or URLs.

Done for you: edits are reported as \`working\` with the changed files, and each commit
is announced to your peers by a git hook.

Your part:
1. Before editing, claim the files:
   \`git paw publish intent --files src/a.ts,src/b.ts --summary "why"\` (valid 900 s,
   \`--ttl S\` to change; \`--region src/a.ts:function:parse\` narrows it to a
   function/class/block/range). Claim again when the scope grows.
2. About every 5 tool uses: \`git paw publish status working --message "what now"\`.
3. Commit after each group of tasks (at most ~10 dirty files). Stay in this worktree.
   {{SPEC_PATH_DOCTRINE}}
4. Between steps run \`git paw inbox\` (only new messages; \`--wait 30\` waits for one)
   and act on feedback sent to you.
5. Waiting on a peer: \`git paw publish blocked --needs "the parser types" --from feat-x\`.
   Need a decision: \`git paw publish question "..."\`, then \`git paw inbox --wait 60\`.
6. Reviewing a peer: \`git paw publish verified feat-x\` or
   \`git paw publish feedback feat-x --error "..."\`.
7. Finished: commit, then \`git paw done\`.

Gates before done: tests {{TEST_COMMAND}}; lint {{LINT_COMMAND}}; build {{BUILD_COMMAND}};
format {{FMT_CHECK_COMMAND}}.

An \`agent.advanced-main\` message means main moved: fetch, look at what changed, then
decide; never rebase automatically. Never push.
<!-- opsx-role-gating:begin -->
Never run \`/opsx:verify\` or \`/opsx:archive\`; the supervisor does that.
<!-- opsx-role-gating:end -->

Without the helper, use curl (\`N\` starts at 0, then the \`last_seq\` you got back):
\`\`\`sh
curl -s -X POST {{GIT_PAW_BROKER_URL}}/publish -H 'Content-Type: application/json' \\
  -d '{"type":"agent.status","agent_id":"{{BRANCH_ID}}","payload":{"status":"working","message":"..."}}'
curl -s '{{GIT_PAW_BROKER_URL}}/messages/{{BRANCH_ID}}?since=N'
\`\`\`
Other payloads: \`agent.intent\` {"files":["a.ts"],"summary":"..."}, \`agent.blocked\`
{"needs":"...","from":"feat-x"}, \`agent.question\` {"question":"..."}, \`agent.artifact\`
{"status":"done","exports":[],"modified_files":[]}.
`;
