/**
 * The web page's review panel over a real broker and real git repo: the
 * `/diff` routes, comments turned into `agent.feedback` naming file and
 * line, and (with Chromium installed) the panel in a headless browser.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startBroker } from "../../lib/broker/server.ts";
import type { Broker } from "../../lib/broker/api.ts";
import { webPlugin } from "../../lib/dashboard/web.ts";
import { reviewPlugin } from "../../lib/coord/review_plugin.ts";
import { integrationPlugin } from "../../lib/coord/integration_plugin.ts";
import {
  CALLER,
  DOCS,
  makeReviewRepo,
  type ReviewRepo,
} from "../session/review_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);

async function feedbackTo(
  broker: Broker,
  agent: string,
  token?: string,
): Promise<string[]> {
  const r = await fetch(`${broker.url}/messages/${agent}?since=0`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const body = await r.json() as {
    messages: Array<{ type: string; payload?: { errors?: string[] } }>;
  };
  return body.messages.flatMap((m) =>
    m.type === "agent.feedback" ? m.payload?.errors ?? [] : []
  );
}

type PageDom = {
  document: { querySelector(s: string): { textContent: string | null } | null };
};

/** Runs in the page: the element's text starts with `text`. */
function textStarts([sel, text]: [string, string]): boolean {
  const d = (globalThis as unknown as PageDom).document;
  return (d.querySelector(sel)?.textContent ?? "").startsWith(text);
}

async function setup(r: ReviewRepo, token?: string) {
  await r.commit(r.worktrees["feat-a"]!, CALLER, "welcome");
  await r.commit(r.worktrees["feat-b"]!, DOCS, "docs");
  const broker = await startBroker({
    port: 0,
    dataDir: join(r.root, "broker"),
    session: r.session,
    quiet: true,
    ...(token ? { token } : {}),
    seed: Object.entries(r.worktrees).map(([b, p]) => ({
      agent_id: b,
      worktree_path: p,
      cli: "demo",
    })),
    republishWorkingTtlSeconds: 60,
    plugins: [
      webPlugin({ session: r.session }),
      reviewPlugin({ repo: r.repo }),
      integrationPlugin({
        repo: r.repo,
        testArgv: null,
        timeoutMs: 10_000,
        log: () => {},
      }),
    ],
  });
  return Object.assign(broker, {
    [Symbol.asyncDispose]: () => broker.close(),
  });
}

Deno.test("GET /diff/:agent serves an agent's diff; POST …/comment reaches the agent naming file and line", async () => {
  await using r = await makeReviewRepo(["feat-a", "feat-b"]);
  await using broker = await setup(r);
  const list = await (await fetch(`${broker.url}/diff`)).json();
  assert.equal(list.base, "main");
  assert.deepEqual(
    list.agents.map((
      a: { agent: string; branch: string },
    ) => [a.agent, a.branch]),
    [["feat-a", "feat-a"], ["feat-b", "feat-b"]],
  );
  const d = await (await fetch(`${broker.url}/diff/feat-a`)).json();
  assert.deepEqual(d.files.map((f: { path: string }) => f.path), [
    "src/welcome.sh",
    "tests/welcome_test.sh",
  ]);
  assert.equal((await fetch(`${broker.url}/diff/nobody`)).status, 404);

  const post = (agent: string, body: unknown, headers = {}) =>
    fetch(`${broker.url}/diff/${agent}/comment`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  let res = await post("feat-a", {
    file: "src/welcome.sh",
    line: 1,
    text: "call salute, greet is being renamed",
  });
  assert.equal(res.status, 202, await res.text());
  res = await post("feat-a", { file: "tests/welcome_test.sh", text: "ok" });
  assert.equal(res.status, 202, await res.text());
  res = await post("feat-a", { file: "x", text: "  " });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  // A foreign page cannot post (the broker's same-origin rule for writes).
  res = await post("feat-a", { file: "x", text: "forged" }, {
    origin: "http://evil.example",
  });
  assert.equal(res.status, 403);
  await res.body?.cancel();
  assert.deepEqual(await feedbackTo(broker, "feat-a"), [
    "[review] src/welcome.sh:1: call salute, greet is being renamed",
    "[review] tests/welcome_test.sh: ok",
  ]);
  assert.deepEqual(await feedbackTo(broker, "feat-b"), []);
});

async function reviewInChromium(token?: string) {
  {
    const { chromium } = await import("playwright-core");
    await using r = await makeReviewRepo(["feat-a", "feat-b"]);
    await using broker = await setup(r, token);
    const p = await broker.publish({
      type: "agent.artifact",
      agent_id: "feat-a",
      payload: { status: "committed", exports: [], modified_files: [] },
    });
    assert.ok(p.ok);
    const ctx = await chromium.launchPersistentContext(
      join(r.root, "profile"),
      {
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
      },
    );
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(15_000);
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      // With a token the page lives under the cookie's path: its requests
      // must stay there (relative) and its comment carry the CSRF header.
      await page.goto(
        token
          ? `${broker.url}/?token=${encodeURIComponent(token)}`
          : `${broker.url}/`,
      );
      await page.waitForSelector("#review-section:not([hidden])");
      await page.waitForSelector('#review-agent option[value="feat-a"]', {
        state: "attached",
      });
      await page.selectOption("#review-agent", "feat-a");
      const row =
        '.rv-file[data-file="src/welcome.sh"] tr[data-line="1"][data-side="new"]';
      await page.waitForSelector(row);
      assert.match(
        (await page.textContent("#review-status")) ?? "",
        /2 files, \+2 .0 against main/,
      );
      await page.click(row);
      await page.fill(".rv-form textarea", "please call salute");
      await page.click(".rv-form button.rv-send");
      await page.waitForFunction(
        textStarts,
        ["#review-status", "sent to feat-a"] as [string, string],
      );
      assert.deepEqual(await feedbackTo(broker, "feat-a", token), [
        "[review] src/welcome.sh:1: please call salute",
      ]);
      await page.waitForFunction(textStarts, [
        "#integration-line",
        "integration: ✓ 2 branches merge cleanly",
      ] as [string, string]);
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  }
}

for (const token of [undefined, "review-" + crypto.randomUUID()]) {
  Deno.test({
    name:
      `review panel in headless Chromium${
        token ? " behind the token cookie" : ""
      }: pick an agent, comment on a line, the agent gets it; the integration line shows` +
      (HAVE_CHROMIUM ? "" : ` (SKIPPED: ${CHROMIUM} is not installed)`),
    ignore: !HAVE_CHROMIUM,
    fn: () => reviewInChromium(token),
  });
}
