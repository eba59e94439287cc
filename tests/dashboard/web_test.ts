import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import {
  crossSiteRefusal,
  servePage,
  webPlugin,
} from "../../lib/dashboard/web.ts";
import { escapeHtml, jsonForScript } from "../../lib/dashboard/web_page.ts";
import { startFakeBroker } from "./_fake_broker.ts";
import { type RunningBroker, startBroker } from "../../lib/broker/server.ts";

const CHROMIUM = "/usr/bin/chromium";

function status(agent: string, s: string, extra: Record<string, unknown> = {}) {
  return {
    type: "agent.status",
    agent_id: agent,
    payload: { status: s, modified_files: [], ...extra },
  };
}

async function post(b: { url: string }, body: unknown) {
  const r = await fetch(`${b.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 202, text);
}

Deno.test("servePage() names git-paw and the session, escapes it, and loads nothing external", async () => {
  const b = await startFakeBroker({ session: `paw-<b>"x"</b>` });
  try {
    const res = servePage(b, { stallThresholdSeconds: 42 });
    const html = await res.text();
    assert.match(
      html,
      /<title>git-paw — paw-&lt;b&gt;&quot;x&quot;&lt;\/b&gt;<\/title>/,
    );
    assert.ok(!html.includes("<b>"), "session name is escaped");
    assert.ok(!/\s(src|href)\s*=/i.test(html), "no src/href attributes");
    assert.ok(!/https?:\/\//.test(html), "no absolute URLs");
    assert.ok(!html.includes("@import"), "no CSS imports");
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!csp.includes("unsafe"), "no unsafe-inline/eval");
    // Every inline script/style carries the nonce (the JSON block is data).
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    assert.equal(scripts.length, 2);
    assert.ok(scripts.some((a) => a!.includes(`nonce="${nonce}"`)));
    assert.ok(scripts.some((a) => a!.includes(`type="application/json"`)));
    assert.match(
      html,
      new RegExp(`<style nonce="${nonce!.replace(/[+/]/g, "\\$&")}">`),
    );
    assert.match(html, /"stallThresholdSeconds":42/);
    // A fresh nonce per response.
    const again = servePage(b).headers.get("content-security-policy");
    assert.notEqual(again, csp);
    assert.equal(res.headers.get("x-frame-options"), "DENY");
  } finally {
    await b.close();
  }
});

Deno.test("jsonForScript() and escapeHtml() cannot close their element", () => {
  assert.ok(
    !jsonForScript({ s: "</script><script>alert(1)</script>" }).includes("<"),
  );
  assert.equal(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
});

Deno.test("crossSiteRefusal() allows same-origin and non-browser requests only", () => {
  const u = "http://127.0.0.1:9/events";
  assert.equal(crossSiteRefusal(new Request(u)), null);
  assert.equal(
    crossSiteRefusal(
      new Request(u, { headers: { origin: "http://127.0.0.1:9" } }),
    ),
    null,
  );
  assert.equal(
    crossSiteRefusal(
      new Request(u, { headers: { "sec-fetch-site": "same-origin" } }),
    ),
    null,
  );
  assert.equal(
    crossSiteRefusal(new Request(u, { headers: { "sec-fetch-site": "none" } })),
    null,
  );
  assert.equal(
    crossSiteRefusal(
      new Request(u, { headers: { origin: "http://127.0.0.1:10" } }),
    )?.status,
    403,
  );
});

Deno.test("GET / serves the page over HTTP with its headers", async () => {
  const b = await startFakeBroker({
    session: "paw-demo",
    plugins: [webPlugin()],
  });
  try {
    const r = await fetch(`${b.url}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
    assert.ok(r.headers.get("content-security-policy"));
    const html = await r.text();
    assert.match(html, /git-paw/);
    assert.match(html, /paw-demo/);
  } finally {
    await b.close();
  }
});

/** The bits of the DOM the in-page predicates use (tests have no DOM lib). */
type PageDom = {
  document: {
    querySelectorAll(sel: string): { length: number };
    querySelector(sel: string): { textContent: string | null } | null;
  };
};

// Predicates run inside the page. They are passed as functions (not strings),
// so Playwright need not eval() them under the page's strict CSP.
function listLengthIs(n: number): boolean {
  const d = (globalThis as unknown as PageDom).document;
  return d.querySelectorAll("#messages li").length === n;
}

function textIs([sel, text]: [string, string]): boolean {
  const d = (globalThis as unknown as PageDom).document;
  return d.querySelector(sel)?.textContent === text;
}

function messageCount(
  page: {
    waitForFunction<A>(fn: (arg: A) => boolean, arg: A): Promise<unknown>;
  },
  n: number,
) {
  return page.waitForFunction(listLengthIs, n);
}

const HOSTILE =
  `<img src=x onerror="window.__pwned=1">&lt;b&gt; "quoted" \u202e`;

const HAVE_CHROMIUM = existsSync(CHROMIUM);

Deno.test({
  name:
    "web dashboard in headless Chromium updates live, filters, flags attention, shows hostile text literally, reconnects" +
    (HAVE_CHROMIUM ? "" : ` (SKIPPED: ${CHROMIUM} is not installed)`),
  ignore: !HAVE_CHROMIUM,
  async fn() {
    const { chromium } = await import("playwright-core");
    const tmp = await Deno.makeTempDir({ prefix: "paw-web-chromium-" });
    const dataDir = join(tmp, "broker");
    await Deno.mkdir(dataDir);
    // The real broker, restarted later on the same port and data dir.
    const startReal = (port: number) =>
      startBroker({
        port,
        dataDir,
        session: "paw-demo",
        quiet: true,
        plugins: [
          webPlugin({ stallThresholdSeconds: 1, sse: { retryMs: 200 } }),
        ],
      });
    let b: RunningBroker = await startReal(0);
    const ctx = await chromium.launchPersistentContext(join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
    });
    try {
      // Published before the page loads: comes from /status + /log.
      await post(
        b,
        status("supervisor", "working", { cli: "claude", phase: "watching" }),
      );
      await post(
        b,
        status("feat/early", "working", {
          cli: "codex",
          message: "warming up",
        }),
      );

      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const cspErrors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") cspErrors.push(m.text());
      });
      await page.goto(`${b.url}/`);
      assert.match(await page.title(), /git-paw — paw-demo/);
      await page.waitForSelector('#conn[data-state="live"]');
      await page.waitForSelector('#agent-rows tr[data-agent="feat-early"]');
      assert.equal(
        await page.textContent(
          '#agent-rows tr[data-agent="feat-early"] .summary',
        ),
        "warming up",
      );
      // Supervisor pinned first, label = phase.
      assert.equal(
        await page.getAttribute("#agent-rows tr:first-child", "data-agent"),
        "supervisor",
      );
      assert.match(
        (await page.textContent(
          '#agent-rows tr[data-agent="supervisor"] .status',
        )) ?? "",
        /watching/,
      );

      // Live: published over HTTP after load, shown without reload.
      await post(
        b,
        status("feat/live", "working", { cli: "claude", message: "step one" }),
      );
      await page.waitForSelector('#agent-rows tr[data-agent="feat-live"]');
      await page.waitForFunction(textIs, [
        '#agent-rows tr[data-agent="feat-live"] .cli',
        "claude",
      ] as [string, string]);

      // Attention: blocked and question.
      await post(b, {
        type: "agent.blocked",
        agent_id: "feat-live",
        payload: { needs: "the API schema", from: "feat-early" },
      });
      await page.waitForSelector(
        '#attention-list li[data-agent="feat-live"][data-reason="blocked"]',
      );
      assert.equal(await page.isVisible("#attention"), true);
      assert.match(
        (await page.textContent(
          '#attention-list li[data-agent="feat-live"]',
        )) ?? "",
        /needs the API schema from feat-early/,
      );
      await post(b, {
        type: "agent.question",
        agent_id: "feat-early",
        payload: { question: "Which DB?" },
      });
      // A question is listed under "Needs you" (first), not twice.
      await page.waitForSelector(
        '#needs-you-list li.ny-item[data-agent="feat-early"][data-kind="question"]',
      );
      assert.equal(
        await page.locator('#attention-list li[data-reason="question"]')
          .count(),
        0,
      );

      // Hostile text renders literally; nothing is injected or run.
      await post(b, status("feat-evil", "working", { message: HOSTILE }));
      await post(b, {
        type: "agent.question",
        agent_id: "feat-evil",
        payload: { question: HOSTILE },
      });
      await page.waitForSelector(
        '#needs-you-list li.ny-item[data-agent="feat-evil"] .ny-what',
      );
      assert.equal(
        await page.textContent(
          '#needs-you-list li.ny-item[data-agent="feat-evil"] .ny-what',
        ),
        HOSTILE.replace("\u202e", "\ufffd"),
      );
      const rowText = await page.textContent(
        '#agent-rows tr[data-agent="feat-evil"] .summary',
      );
      assert.ok(
        rowText?.includes(`<img src=x onerror="window.__pwned=1">`),
        rowText ?? "",
      );
      assert.ok(rowText?.includes("&lt;b&gt;"));
      assert.ok(!rowText?.includes("\u202e"), "bidi override removed");
      const msgText = await page.textContent(
        '#messages li[data-type="agent.question"] .text',
      );
      assert.ok(msgText?.includes("<img src=x"), msgText ?? "");
      assert.equal(await page.locator("img").count(), 0, "no element injected");
      assert.equal(
        await page.evaluate(() =>
          (window as unknown as { __pwned?: number }).__pwned
        ),
        undefined,
      );
      assert.deepEqual(dialogs, []);

      // Message detail: click shows JSON as text.
      await page.click('#messages li[data-type="agent.question"]');
      const json = await page.textContent(
        '#messages li[data-type="agent.question"] pre',
      );
      assert.ok(json?.includes('"question"'));
      assert.equal(await page.locator("img").count(), 0);

      // Filter chips.
      const countAll = await page.locator("#messages li").count();
      assert.equal(countAll, 7);
      await page.click('#chips button[data-type="agent.question"]');
      await messageCount(page, 2);
      const types = await page.$$eval(
        "#messages li",
        (els) => els.map((e) => e.getAttribute("data-type")),
      );
      assert.deepEqual(types, ["agent.question", "agent.question"]);
      assert.equal(
        await page.getAttribute(
          '#chips button[data-type="all"]',
          "aria-pressed",
        ),
        "false",
      );
      await page.click('#chips button[data-type="agent.blocked"]'); // add a second type
      await messageCount(page, 3);
      // A new message of a hidden type stays hidden; of a shown type appears.
      await post(
        b,
        status("feat-early", "working", { message: "hidden while filtered" }),
      );
      await post(b, {
        type: "agent.question",
        agent_id: "feat-early",
        payload: { question: "still there?" },
      });
      await messageCount(page, 4);
      assert.equal(
        await page.locator('#messages li[data-type="agent.status"]').count(),
        0,
      );
      await page.click('#chips button[data-type="all"]');
      await messageCount(page, 9);

      // An open question stays while its agent goes on; an answer (any
      // feedback to it but git-paw's automatic lanes') clears it.
      const earlyQuestions =
        '#needs-you-list li.ny-item[data-agent="feat-early"][data-kind="question"]';
      await post(
        b,
        status("feat-early", "working", { message: "moving on meanwhile" }),
      );
      await page.waitForFunction(textIs, [
        '#agent-rows tr[data-agent="feat-early"] .summary',
        "moving on meanwhile",
      ] as [string, string]);
      assert.equal(await page.locator(earlyQuestions).count(), 2);
      await post(b, {
        type: "agent.feedback",
        agent_id: "feat-early",
        payload: { from: "supervisor", errors: ["Postgres; yes"] },
      });
      await page.waitForSelector(earlyQuestions, { state: "detached" });

      // Stall: an agent silent past the (1 s) threshold is flagged.
      await page.waitForSelector(
        '#attention-list li[data-agent="feat-early"][data-reason="stalled"]',
      );

      // Hearing from it again clears the stall, even when the message changes
      // no roster field (same status: the broker sends no roster event).
      await post(b, status("feat-early", "working", { message: "still busy" }));
      await page.waitForSelector(
        '#attention-list li[data-agent="feat-early"][data-reason="stalled"]',
        { state: "detached" },
      );

      // Broker restart: the page reconnects and resumes from its last seq.
      const port = b.port;
      await b.close();
      await page.waitForSelector('#conn:not([data-state="live"])');
      b = await startReal(port);
      await page.waitForSelector('#conn[data-state="live"]');
      await post(
        b,
        status("feat/after", "done", {
          cli: "gemini",
          message: "after restart",
        }),
      );
      await page.waitForSelector('#agent-rows tr[data-agent="feat-after"]');
      await messageCount(page, 13);
      const seqs = await page.$$eval(
        "#messages li",
        (els) => els.map((e) => Number(e.getAttribute("data-seq"))),
      );
      assert.deepEqual(
        seqs,
        [13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
        "no gap, no duplicate",
      );

      const shot = join(tmp, "dashboard.png");
      await page.screenshot({ path: shot, fullPage: true });
      const size = (await Deno.stat(shot)).size;
      assert.ok(size > 20_000, `screenshot is ${size} bytes`);
      assert.deepEqual(
        cspErrors.filter((e) => /Content Security Policy/i.test(e)),
        [],
      );
      if (Deno.env.get("GIT_PAW_KEEP_SCREENSHOT")) {
        await Deno.copyFile(shot, Deno.env.get("GIT_PAW_KEEP_SCREENSHOT")!);
      }
    } finally {
      await ctx.close();
      await b.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
