/**
 * `git paw start --cli claude` with the real Claude Code against the mock
 * Anthropic API: git-paw's MCP server, registered in the worktree's
 * `.mcp.json` and pre-allowed in its local settings, reaches the model as
 * `mcp__git-paw__*` tools with no approval dialog on screen, and a call of
 * `publish_status` lands on the broker under the worktree's agent id, with
 * no permission prompt.
 */
import assert from "node:assert/strict";
import {
  agentMark,
  openCliRig,
  PERMISSION_PROMPT,
} from "../_helpers/ai_cli_session.ts";

/**
 * The tool names a Messages API request offers the model: `tools[].name`,
 * plus the names Claude lists as deferred (loaded through ToolSearch), one
 * per line in its reminder text.
 */
function listedTools(body: unknown): string[] {
  const b = body as { tools?: Array<{ name?: string }> };
  const names = (b.tools ?? []).flatMap((t) => t.name ? [t.name] : []);
  const text = JSON.stringify(body).replaceAll("\\n", "\n");
  const deferred = text.match(/^mcp__[\w-]+__\w+$/gm) ?? [];
  return [...new Set([...names, ...deferred])];
}

Deno.test({
  name:
    "git paw start --cli claude: the git-paw MCP tools reach the model unasked and publish_status reaches the broker as the agent",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using rig = await openCliRig("claude", {
      steps: [{
        id: "boot-a",
        when: "BOOT INSTRUCTIONS",
        context: agentMark("a"),
        reply: {
          text: "Registering over MCP.",
          tools: [{
            name: "mcp__git-paw__publish_status",
            input: { status: "working", message: "a-mcp-up-3q" },
          }],
        },
      }],
      fallback: { text: "OK-IDLE" },
    });
    await rig.start(["--branches", "a"]);
    const up = await rig.until(
      "a's status published over MCP",
      async () =>
        (await rig.log()).find((e) =>
          e.message.type === "agent.status" &&
          e.message.payload?.message === "a-mcp-up-3q"
        ),
      90_000,
    );
    assert.equal(up.message.agent_id, "a");
    assert.equal(up.message.payload?.status, "working");
    // The call's result goes back in a later request: by then the server
    // is connected and its tools are in the model's list (Claude may defer
    // them behind ToolSearch, listed by name; the first request can go out
    // before the server has connected).
    const listing = await rig.until(
      "a request after the publish result, listing the git-paw tools",
      () =>
        rig.mock.requests().find((q) =>
          q.step !== "boot-a" && q.turn.includes("a-mcp-up-3q")
        ),
      30_000,
    );
    const tools = listedTools(listing.body);
    assert.ok(
      tools.includes("mcp__git-paw__publish_status"),
      `tools: ${tools.join(", ")}`,
    );
    assert.ok(tools.includes("mcp__git-paw__read_inbox"));
    const screen = await rig.screen("a");
    assert.doesNotMatch(screen, /New MCP server found/);
    assert.doesNotMatch(screen, PERMISSION_PROMPT.claude);
    const purge = await rig.w.paw(["purge", "--force"]);
    assert.equal(purge.code, 0, purge.stderr);
  },
});
