/**
 * The dashboard's token cookie stays with the dashboard: a browser that
 * logged in with `/?token=` sends it to no other server on 127.0.0.1
 * (cookies ignore ports; the cookie's `Path` is the dashboard's own
 * unguessable prefix). Headless Chromium, two real servers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { startBroker } from "../../lib/broker/server.ts";
import { dashboardPath } from "../../lib/broker/handler.ts";
import { webPlugin } from "../../lib/dashboard/web.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const TOKEN = "tok-" + crypto.randomUUID();

Deno.test({
  name:
    "the /?token= cookie is not sent to another local server the browser visits afterwards" +
    (HAVE_CHROMIUM ? "" : ` (SKIPPED: ${CHROMIUM} is not installed)`),
  ignore: !HAVE_CHROMIUM,
  async fn() {
    const { chromium } = await import("playwright-core");
    const tmp = await Deno.makeTempDir({ prefix: "paw-web-cookie-" });
    const broker = await startBroker({
      port: 0,
      dataDir: join(tmp, "broker"),
      session: "paw-cookie",
      token: TOKEN,
      quiet: true,
      plugins: [webPlugin({ sse: { heartbeatMs: 60_000 } })],
    });
    // Another local server (a dev server, say) records what it is sent.
    const seen: Array<{ path: string; cookie: string }> = [];
    const other = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      (req) => {
        seen.push({
          path: new URL(req.url).pathname,
          cookie: req.headers.get("cookie") ?? "",
        });
        return new Response("<title>other</title>", {
          headers: { "content-type": "text/html" },
        });
      },
    );
    const otherUrl = `http://127.0.0.1:${other.addr.port}`;
    const ctx = await chromium.launchPersistentContext(join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(10_000);
      await page.goto(`${broker.url}/?token=${encodeURIComponent(TOKEN)}`);
      // Logged in: the page and its relative /view and /events work.
      const home = dashboardPath(TOKEN);
      assert.equal(new URL(page.url()).pathname, `${home}/`);
      assert.match(await page.title(), /git-paw — paw-cookie/);
      await page.waitForSelector('#conn[data-state="live"]');
      const atRoot = await ctx.cookies(`${broker.url}/`);
      assert.ok(!atRoot.some((c) => c.name === "git_paw_token"));
      const jar = await ctx.cookies(`${broker.url}${home}/`);
      const tok = jar.find((c) => c.name === "git_paw_token");
      assert.ok(tok, JSON.stringify(jar));
      assert.equal(tok.path, `${home}/`);
      assert.equal(tok.httpOnly, true);
      // Control: a cookie scoped to `/` on this host does reach the other
      // server, so the check below can see a leak.
      await ctx.addCookies([{
        name: "control",
        value: "1",
        domain: "127.0.0.1",
        path: "/",
      }]);
      for (const path of ["/", "/status", "/events", "/s/", "/view"]) {
        await page.goto(`${otherUrl}${path}`);
      }
      await page.evaluate(
        (u) =>
          fetch(u + "/api", { credentials: "include" }).then((r) => r.text()),
        otherUrl,
      );
      assert.ok(seen.length >= 6, JSON.stringify(seen));
      for (const s of seen) {
        assert.doesNotMatch(s.cookie, /git_paw_token/, JSON.stringify(s));
        assert.doesNotMatch(s.cookie, new RegExp(TOKEN), JSON.stringify(s));
      }
      assert.ok(
        seen.some((s) => /control=1/.test(s.cookie)),
        `control cookie reached the other server: ${JSON.stringify(seen)}`,
      );
      // Back on the dashboard, the cookie still opens it.
      await page.goto(`${broker.url}${home}/`);
      await page.waitForSelector('#conn[data-state="live"]');
    } finally {
      await ctx.close();
      await other.shutdown();
      await broker.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
