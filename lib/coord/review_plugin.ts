/**
 * Review from the web page: routes on the session's broker that show each
 * agent's diff and send a comment on a file or line back to that agent as
 * `agent.feedback`.
 *
 * - `GET /diff` — the agents (id, branch, worktree) that have a diff;
 * - `GET /diff/:agent[?worktree=1]` — one agent's files, hunks and numbered
 *   lines against its merge base with the default branch (`git paw diff
 *   --json`'s shape; `worktree=1` includes uncommitted edits);
 * - `POST /diff/:agent/comment` `{file, line?, side?, text}` — publishes
 *   `agent.feedback` to the agent, from `review`, naming the file and line:
 *   `[review] <file>:<line>: <text>` (`side: "old"` marks a deleted line).
 *
 * The broker's own checks run first (Host allow-list, same-origin writes,
 * bearer token), so a foreign page can neither read a diff nor post.
 * @module
 */
import { z } from "zod";
import type { Broker, BrokerPlugin } from "../broker/api.ts";
import { defaultBranch, worktreeList } from "../adapters/git.ts";
import { agentDiff } from "../adapters/git_diff.ts";
import { canonical } from "../adapters/fs.ts";

/** Options of {@link reviewPlugin}. */
export type ReviewPluginOptions = { repo: string };

/** The sender of review comments. */
const REVIEW_FROM = "review";

/** `POST /diff/:agent/comment` body. */
const ReviewComment = z.object({
  file: z.string().min(1, "file must not be empty").max(4096),
  line: z.number().int().min(1).nullish().transform((v) => v ?? null),
  side: z.enum(["new", "old"]).nullish().transform((v) => v ?? "new"),
  text: z.string().refine((s) => s.trim() !== "", "text must not be blank")
    .refine((s) => s.length <= 8000, "text must be at most 8000 characters"),
});
/** `POST /diff/:agent/comment` body. */
type ReviewComment = z.infer<typeof ReviewComment>;

/** The feedback text of a comment. */
function reviewFeedbackText(c: ReviewComment): string {
  const where = c.line === null
    ? c.file
    : `${c.file}:${c.line}${c.side === "old" ? " (deleted line)" : ""}`;
  return `[review] ${where}: ${c.text.trim()}`;
}

type Agent = { agent: string; branch: string; worktree: string };

async function agents(repo: string, broker: Broker): Promise<Agent[]> {
  const list = await worktreeList(repo);
  const out: Agent[] = [];
  for (const t of broker.watchTargets()) {
    const p = await canonical(t.worktree_path).catch(() => t.worktree_path);
    const w = list.find((x) => x.path === p);
    if (w?.branch) {
      out.push({ agent: t.agent_id, branch: w.branch, worktree: w.path });
    }
  }
  return out.sort((a, b) => a.agent < b.agent ? -1 : 1);
}

/** The review routes as a broker plugin. */
export function reviewPlugin(opts: ReviewPluginOptions): BrokerPlugin {
  let base: string | null = null;
  const baseOf = async () => base ??= await defaultBranch(opts.repo);
  const noStore = { "cache-control": "no-store" };
  return {
    name: "review",
    routes(app, broker) {
      app.get(
        "/diff",
        async () =>
          Response.json({
            base: await baseOf(),
            agents: await agents(opts.repo, broker),
          }, {
            headers: noStore,
          }),
      );
      app.get("/diff/:agent", async (c) => {
        const id = c.req.param("agent");
        const a = (await agents(opts.repo, broker)).find((x) => x.agent === id);
        if (!a) {
          return Response.json({ error: `no agent '${id}' with a worktree` }, {
            status: 404,
          });
        }
        const d = await agentDiff(opts.repo, a, {
          base: await baseOf(),
          worktree: c.req.query("worktree") === "1",
        });
        const { text: _text, ...body } = d;
        return Response.json(body, { headers: noStore });
      });
      app.post("/diff/:agent/comment", async (c) => {
        const id = c.req.param("agent");
        let raw: unknown;
        try {
          raw = await c.req.json();
        } catch {
          return Response.json({ error: "invalid JSON" }, { status: 400 });
        }
        const r = ReviewComment.safeParse(raw);
        if (!r.success) {
          return Response.json({
            error: `invalid comment: ${r.error.issues[0]?.message ?? "?"}`,
          }, { status: 400 });
        }
        const pub = await broker.publish({
          type: "agent.feedback",
          agent_id: id,
          payload: { from: REVIEW_FROM, errors: [reviewFeedbackText(r.data)] },
        });
        if (!pub.ok) {
          return Response.json(pub.error.body, { status: pub.error.status });
        }
        return Response.json({ ok: true, seq: pub.seq }, { status: 202 });
      });
    },
  };
}
