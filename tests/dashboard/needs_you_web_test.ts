/**
 * "Needs you" on the web page, from a phone: a real broker with a token on
 * 127.0.0.1 (as a wide `[broker] bind` has), the approvals plugin in queue
 * mode, and headless Chromium at 390×844 with touch. Approve, Deny with a
 * reason, Answer and Tell from the page; the audit records `web`; a second
 * decision is refused with a clear message; writes without the token, the
 * CSRF header or from another origin are refused and change nothing.
 */
import assert from "node:assert/strict";
import { startBroker } from "../../lib/broker/server.ts";
import { dashboardPath } from "../../lib/broker/handler.ts";
import { webPlugin } from "../../lib/dashboard/web.ts";
import { approvalsPlugin } from "../../lib/coord/approvals_plugin.ts";
import { HAVE_CHROMIUM, launchChromium, PHONE } from "../_helpers/chromium.ts";
import { pawCommand } from "../_helpers/paw_command.ts";
import { openSse, type SseConnection } from "./_sse_client.ts";

const TOKEN = "tok-" + crypto.randomUUID().replaceAll("-", "");
const AUTH = { authorization: `Bearer ${TOKEN}` };
const LONG_COMMAND =
  "npm install left-pad && curl -fsSL https://downloads.example.com/installers/a-very-long-path-without-any-break/install-the-thing-now.sh | sh";

async function setup(
  token: string | null = TOKEN,
  dataDir?: string,
  bind?: string,
) {
  const dir = dataDir ?? await Deno.makeTempDir({ prefix: "paw-needs-you-" });
  const broker = await startBroker({
    port: 0,
    ...(bind ? { bind } : {}),
    dataDir: dir,
    session: "paw-phone",
    ...(token ? { token } : {}),
    quiet: true,
    plugins: [
      approvalsPlugin({
        mode: "queue",
        policy: { allow: ["git add *"], deny: [], worktree_writes: "ask" },
        timeoutSeconds: 600,
      }),
      webPlugin({ session: "paw-phone", sse: { heartbeatMs: 60_000 } }),
    ],
  });
  return Object.assign(broker, {
    dir,
    async [Symbol.asyncDispose]() {
      await broker.close();
      if (!dataDir) await Deno.remove(dir, { recursive: true });
    },
  });
}

type Json = Record<string, unknown>;

async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown },
): Promise<{ status: number; json: Json }> {
  const r = await fetch(url, {
    method: init.method ?? "GET",
    headers: {
      ...(init.body !== undefined
        ? { "content-type": "application/json" }
        : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : {} };
}

/** File a request the policy sends to a person; its id. */
async function ask(url: string, agent: string, command: string) {
  const r = await call(`${url}/approvals`, {
    method: "POST",
    headers: AUTH,
    body: {
      agent_id: agent,
      cli: "claude",
      tool: "Bash",
      input: { command },
      cwd: `/tmp/wt-${agent}`,
      worktree: `/tmp/wt-${agent}`,
    },
  });
  assert.equal(r.json.decision, "pending", JSON.stringify(r.json));
  return r.json.id as number;
}

async function publish(url: string, msg: unknown) {
  const r = await call(`${url}/publish`, {
    method: "POST",
    headers: AUTH,
    body: msg,
  });
  assert.equal(r.status, 202, JSON.stringify(r.json));
}

async function record(url: string, id: number) {
  return (await call(`${url}/approvals/${id}`, { headers: AUTH })).json as {
    decision: null | { decision: string; by: string; reason: string | null };
  };
}

/** Feedback lines `agent`'s inbox holds from the web page. */
async function webFeedback(url: string, agent: string): Promise<string[]> {
  const r = await call(`${url}/messages/${agent}?since=0`, { headers: AUTH });
  const msgs = r.json.messages as Array<
    { type: string; payload: { from?: string; errors?: string[] } }
  >;
  return msgs.flatMap((m) =>
    m.type === "agent.feedback" && m.payload.from === "web"
      ? m.payload.errors ?? []
      : []
  );
}

function status(agent: string, s: string, message?: string) {
  return {
    type: "agent.status",
    agent_id: agent,
    payload: { status: s, modified_files: [], ...(message ? { message } : {}) },
  };
}

/** The bits of the DOM the in-page functions use (tests have no DOM lib). */
type Box = { top: number; width: number; height: number };
type PageGlobals = {
  document: {
    documentElement: { scrollWidth: number; clientWidth: number };
    getElementById(id: string): { getBoundingClientRect(): Box } | null;
    querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): Box }>;
    querySelector(s: string): { textContent: string | null } | null;
  };
  innerWidth: number;
};

/** Runs in the page: layout facts of the phone view. */
function layout() {
  const g = globalThis as unknown as PageGlobals;
  const d = g.document;
  const top = (id: string) => d.getElementById(id)!.getBoundingClientRect().top;
  const buttons = Array.from(
    d.querySelectorAll("#needs-you-list button:not([hidden])"),
  ).map((b) => b.getBoundingClientRect());
  return {
    scrollWidth: d.documentElement.scrollWidth,
    clientWidth: d.documentElement.clientWidth,
    innerWidth: g.innerWidth,
    needsYouTop: top("needs-you"),
    agentsTop: top("agents-section"),
    messagesTop: top("messages-section"),
    smallestButton: buttons.reduce(
      (m, b) => Math.min(m, b.height, b.width),
      Infinity,
    ),
    buttons: buttons.length,
  };
}

function textHas([sel, text]: [string, string]): boolean {
  const d = (globalThis as unknown as PageGlobals).document;
  return (d.querySelector(sel)?.textContent ?? "").includes(text);
}

Deno.test({
  name:
    "Needs you on a phone (headless Chromium 390x844): approve, deny with a reason, answer, tell; decisions recorded as web; a second decision is refused" +
    (HAVE_CHROMIUM ? "" : " (SKIPPED: /usr/bin/chromium is not installed)"),
  ignore: !HAVE_CHROMIUM,
  async fn() {
    await using b = await setup();
    const url = b.url;
    const home = dashboardPath(TOKEN);
    await publish(url, status("feat-a", "working", "building"));
    const a1 = await ask(url, "feat-a", LONG_COMMAND);
    await publish(url, status("feat-b", "working", "designing the cache"));
    await publish(url, {
      type: "agent.question",
      agent_id: "feat-b",
      payload: { question: "Which DB should the cache use?" },
    });
    await publish(url, status("feat-c", "needs_input", "Bash: rm -rf build"));

    await using browser = await launchChromium(PHONE);
    const page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    // The notification's link: log in, land on the request.
    await page.goto(
      `${url}/?token=${encodeURIComponent(TOKEN)}#approval-${a1}`,
    );
    assert.equal(new URL(page.url()).pathname, `${home}/`);
    const card = (key: string) =>
      `#needs-you-list li.ny-item[data-key="${key}"]`;
    await page.waitForSelector(card(`approval-${a1}`));
    await page.waitForSelector('#needs-you-list li[data-kind="needs_input"]');

    await (async function anAgentLinkLandsOnItsCard() {
      // A notification's `#agent-<id>` link (questions, needs_input, stalls).
      const p2 = await browser.newPage();
      await p2.goto(`${url}${home}/#agent-feat-b`);
      await p2.waitForSelector(
        '#needs-you-list li.ny-target[data-kind="question"][data-agent="feat-b"]',
      );
      assert.equal(await p2.$$eval("tr#agent-feat-c", (e) => e.length), 1);
      await p2.close();
    })();

    await (async function listsWhatNeedsAPersonFirst() {
      const kinds = await page.$$eval(
        "#needs-you-list li.ny-item",
        (els) =>
          els.map((
            e,
          ) => [e.getAttribute("data-kind"), e.getAttribute("data-agent")]),
      );
      assert.deepEqual(kinds, [
        ["approval", "feat-a"],
        ["question", "feat-b"],
        ["needs_input", "feat-c"],
      ]);
      const a = card(`approval-${a1}`);
      assert.equal(await page.getAttribute(a, "id"), `approval-${a1}`);
      assert.match((await page.getAttribute(a, "class")) ?? "", /ny-target/);
      assert.equal(await page.textContent(`${a} .ny-kind`), `approval #${a1}`);
      assert.equal(await page.textContent(`${a} .ny-what`), LONG_COMMAND);
      assert.match((await page.textContent(`${a} .ny-tool`)) ?? "", /^Bash/);
      assert.match(
        (await page.textContent(`${a} .ny-meta`)) ?? "",
        /in \/tmp\/wt-feat-a/,
      );
      assert.match((await page.textContent(`${a} .ny-age`)) ?? "", /\d+s ago/);
      const l = await page.evaluate(layout);
      assert.equal(l.innerWidth, 390);
      assert.ok(
        l.scrollWidth <= l.clientWidth,
        `no horizontal scroll: ${JSON.stringify(l)}`,
      );
      assert.ok(l.needsYouTop < l.agentsTop, JSON.stringify(l));
      assert.ok(l.needsYouTop < l.messagesTop, JSON.stringify(l));
      assert.equal(l.buttons, 2 + 2 + 2, JSON.stringify(l));
      assert.ok(l.smallestButton >= 44, `buttons are ${l.smallestButton}px`);
    })();

    const keep = Deno.env.get("GIT_PAW_KEEP_SCREENSHOT");
    if (keep) await page.screenshot({ path: keep, fullPage: true });

    // Approve: decided once, by web, as `git paw approvals --json` shows.
    await page.tap(`${card(`approval-${a1}`)} button.ny-approve`);
    await page.waitForSelector(card(`approval-${a1}`), { state: "detached" });
    await page.waitForFunction(
      textHas,
      ["#ny-status", `Approved #${a1} (feat-a)`] as [string, string],
    );
    const out = await pawCommand([
      "approvals",
      "--json",
      "--broker",
      url,
      "--token",
      TOKEN,
    ], { stdout: "piped", stderr: "piped" }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const audit = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      approvals: Array<{ id: number; decision: Json | null }>;
    };
    const row = audit.approvals.find((r) => r.id === a1);
    assert.equal(row?.decision?.decision, "allow");
    assert.equal(row?.decision?.by, "web");

    // A request filed while the page is open appears live; Deny with a
    // reason reaches the decision record.
    const a2 = await ask(url, "feat-a", "rm -rf node_modules");
    await page.waitForSelector(card(`approval-${a2}`));
    await page.fill(
      `${card(`approval-${a2}`)} input.ny-reason`,
      "not on this branch",
    );
    await page.tap(`${card(`approval-${a2}`)} button.ny-deny`);
    await page.waitForSelector(card(`approval-${a2}`), { state: "detached" });
    const denied = (await record(url, a2)).decision;
    assert.equal(denied?.decision, "deny");
    assert.equal(denied?.by, "web");
    assert.equal(denied?.reason, "not on this branch");

    // Answer a question: an agent.feedback from web in the agent's inbox.
    const q =
      '#needs-you-list li.ny-item[data-kind="question"][data-agent="feat-b"]';
    await page.fill(`${q} textarea.ny-reply`, "Use Postgres 16");
    await page.tap(`${q} button.ny-answer`);
    await page.waitForSelector(q, { state: "detached" });
    assert.deepEqual(await webFeedback(url, "feat-b"), [
      'Answer to your question "Which DB should the cache use?": Use Postgres 16',
    ]);

    // Tell a waiting agent: feedback; it still waits, now marked answered
    // (Tell stays, Answer goes).
    const w =
      '#needs-you-list li.ny-item[data-kind="needs_input"][data-agent="feat-c"]';
    await page.fill(
      `${w} textarea.ny-reply`,
      "keep build/, delete dist/ instead",
    );
    await page.tap(`${w} button.ny-tell`);
    await page.waitForFunction(
      textHas,
      [`${w} .ny-meta`, "answered by web"] as [string, string],
    );
    assert.equal(await page.isVisible(`${w} button.ny-answer`), false);
    assert.equal(await page.isVisible(`${w} button.ny-tell`), true);
    assert.deepEqual(await webFeedback(url, "feat-c"), [
      "keep build/, delete dist/ instead",
    ]);

    // Decided elsewhere (the terminal): the page drops it live.
    const a3 = await ask(url, "feat-a", "make deploy");
    await page.waitForSelector(card(`approval-${a3}`));
    const cli = await call(`${url}/approvals/${a3}/approve`, {
      method: "POST",
      headers: AUTH,
      body: {},
    });
    assert.equal(cli.status, 200);
    await page.waitForSelector(card(`approval-${a3}`), { state: "detached" });

    // A stale page (its live updates cut) decides an item decided
    // meanwhile: a clear message, no second decision.
    const a4 = await ask(url, "feat-a", "make release");
    const stale = await browser.newPage();
    stale.setDefaultTimeout(15_000);
    let views = 0;
    await stale.route("**/events*", (r) => r.abort());
    await stale.route(
      "**/view",
      (r) => views++ === 0 ? r.continue() : r.abort(),
    );
    await stale.goto(`${url}${home}/`);
    await stale.waitForSelector(card(`approval-${a4}`));
    const first = await call(`${url}/approvals/${a4}/approve`, {
      method: "POST",
      headers: AUTH,
      body: {},
    });
    assert.equal(first.status, 200);
    await stale.tap(`${card(`approval-${a4}`)} button.ny-deny`);
    await stale.waitForFunction(
      textHas,
      [
        `${card(`approval-${a4}`)} .ny-status`,
        `approval ${a4} was already decided (allow by user via cli)`,
      ] as [string, string],
    );
    assert.equal(
      await stale.getAttribute(card(`approval-${a4}`), "data-result"),
      "refused",
    );
    assert.equal((await record(url, a4)).decision?.by, "user via cli");
    await stale.close();

    // The review panel's and integration lane's routes 404 here (no repo):
    // the page hides them; nothing else went wrong.
    assert.deepEqual(
      errors.filter((e) => !/status of 404/.test(e)),
      [],
    );
  },
});

Deno.test("web writes need the token cookie, the CSRF header and the page's own origin; a refused one changes nothing", async () => {
  await using b = await setup();
  const url = b.url;
  const base = `${url}${dashboardPath(TOKEN)}`;
  const id = await ask(url, "feat-a", "make deploy");
  await publish(url, status("feat-b", "working", "shipping"));
  await publish(url, {
    type: "agent.question",
    agent_id: "feat-b",
    payload: { question: "Ship it?" },
  });
  const view = await call(`${url}/needs-you`, { headers: AUTH });
  const items = view.json.items as Array<{ kind: string; ref: number }>;
  const qRef = items.find((i) => i.kind === "question")!.ref;

  const cookie = `git_paw_token=${TOKEN}`;
  const writes: Array<[string, unknown]> = [
    [`${base}/approvals/${id}/approve`, { by: "web" }],
    [`${base}/approvals/${id}/deny`, { by: "web", reason: "no" }],
    [`${base}/needs-you/feat-b/answer`, { ref: qRef, text: "yes" }],
    [`${base}/needs-you/feat-b/tell`, { text: "yes" }],
  ];
  const cases: Array<[string, Record<string, string>, number]> = [
    ["cross-site", {
      cookie,
      origin: "http://evil.example",
      "x-git-paw-csrf": "1",
    }, 403],
    ["another local port", {
      cookie,
      origin: url.replace(/:(\d+)$/, (_m, p) => `:${Number(p) + 1}`),
      "x-git-paw-csrf": "1",
    }, 403],
    ["no token", { origin: url, "x-git-paw-csrf": "1" }, 401],
    ["a wrong token", {
      cookie: "git_paw_token=nope",
      origin: url,
      "x-git-paw-csrf": "1",
    }, 401],
    ["no CSRF header", { cookie, origin: url }, 401],
    ["a cross-site fetch", {
      cookie,
      origin: url,
      "x-git-paw-csrf": "1",
      "sec-fetch-site": "cross-site",
    }, 401],
  ];
  for (const [what, headers, want] of cases) {
    for (const [target, body] of writes) {
      const r = await call(target, { method: "POST", headers, body });
      assert.equal(
        r.status,
        want,
        `${what} → ${target}: ${JSON.stringify(r.json)}`,
      );
    }
  }
  assert.equal((await record(url, id)).decision, null, "still pending");
  assert.deepEqual(await webFeedback(url, "feat-b"), []);

  // The page's own write (cookie, origin, header) goes through, once.
  const ok = { cookie, origin: url, "x-git-paw-csrf": "1" };
  const answered = await call(`${base}/needs-you/feat-b/answer`, {
    method: "POST",
    headers: ok,
    body: { ref: qRef, text: "yes" },
  });
  assert.equal(answered.status, 202, JSON.stringify(answered.json));
  const again = await call(`${base}/needs-you/feat-b/answer`, {
    method: "POST",
    headers: ok,
    body: { ref: qRef, text: "yes!" },
  });
  assert.equal(again.status, 409);
  assert.equal(
    again.json.error,
    `question #${qRef} of feat-b was already answered (by web)`,
  );
  assert.deepEqual(await webFeedback(url, "feat-b"), [
    'Answer to your question "Ship it?": yes',
  ]);
  const approved = await call(`${base}/approvals/${id}/approve`, {
    method: "POST",
    headers: ok,
    body: { by: "web" },
  });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  const twice = await call(`${base}/approvals/${id}/deny`, {
    method: "POST",
    headers: ok,
    body: { by: "web" },
  });
  assert.equal(twice.status, 409);
  assert.match(String(twice.json.error), /already decided \(allow by web\)/);

  // Bad input: one clear error, nothing sent.
  for (
    const [target, body, want] of [
      [
        `${base}/needs-you/feat-b/tell`,
        { text: "  " },
        /text must not be blank/,
      ],
      [`${base}/needs-you/nobody/tell`, { text: "hi" }, /no agent 'nobody'/],
      [
        `${base}/needs-you/feat-b/answer`,
        { ref: 99999, text: "x" },
        /no question or wait #99999/,
      ],
      [`${base}/needs-you/feat-b/answer`, { text: "x" }, /ref must be/],
    ] as Array<[string, unknown, RegExp]>
  ) {
    const r = await call(target, { method: "POST", headers: ok, body });
    assert.ok(r.status >= 400 && r.status < 500, `${target}: ${r.status}`);
    assert.match(String(r.json.error), want);
  }
  assert.equal((await webFeedback(url, "feat-b")).length, 1);
});

Deno.test("without a token the broker still refuses a browser write that lacks the CSRF header", async () => {
  await using b = await setup(null);
  const url = b.url;
  await publish(url, status("feat-b", "working", "busy"));
  const id = await ask(url, "feat-b", "make deploy");
  for (
    const target of [
      `${url}/approvals/${id}/approve`,
      `${url}/needs-you/feat-b/tell`,
    ]
  ) {
    const r = await call(target, {
      method: "POST",
      headers: { origin: url },
      body: { text: "x", by: "web" },
    });
    assert.equal(r.status, 403, `${target}: ${JSON.stringify(r.json)}`);
    assert.match(String(r.json.error), /x-git-paw-csrf/);
  }
  const told = await call(`${url}/needs-you/feat-b/tell`, {
    method: "POST",
    headers: { origin: url, "x-git-paw-csrf": "1" },
    body: { text: "x" },
  });
  assert.equal(told.status, 202);
  assert.equal((await record(url, id)).decision, null);
});

Deno.test({
  name:
    "a page on another local server cannot decide through the browser's cookie (cross-origin POSTs refused)" +
    (HAVE_CHROMIUM ? "" : " (SKIPPED: /usr/bin/chromium is not installed)"),
  ignore: !HAVE_CHROMIUM,
  async fn() {
    await using b = await setup();
    const url = b.url;
    const home = `${url}${dashboardPath(TOKEN)}`;
    const id = await ask(url, "feat-a", "make deploy");
    const other = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      () =>
        new Response("<!doctype html><title>other</title>", {
          headers: { "content-type": "text/html" },
        }),
    );
    try {
      await using browser = await launchChromium(PHONE);
      const page = await browser.newPage();
      page.setDefaultTimeout(15_000);
      // Logged in: the cookie is in the jar and goes to same-site requests.
      await page.goto(`${url}/?token=${encodeURIComponent(TOKEN)}`);
      await page.waitForSelector(`#approval-${id}`);
      await page.goto(`http://127.0.0.1:${other.addr.port}/`);
      const outcome = await page.evaluate(async (target: string) => {
        const simple = await fetch(target, {
          method: "POST",
          mode: "no-cors",
          credentials: "include",
          headers: { "content-type": "text/plain" },
          body: '{"by":"evil"}',
        }).then((r) => r.type, (e) => `threw ${e}`);
        const withHeader = await fetch(target, {
          method: "POST",
          credentials: "include",
          headers: {
            "content-type": "application/json",
            "x-git-paw-csrf": "1",
          },
          body: '{"by":"evil"}',
        }).then((r) => `status ${r.status}`, () => "blocked");
        return { simple, withHeader };
      }, `${home}/approvals/${id}/approve`);
      // The simple POST is sent (opaque answer); the one with the header
      // needs a CORS preflight the broker never grants.
      assert.deepEqual(outcome, { simple: "opaque", withHeader: "blocked" });
      assert.equal((await record(url, id)).decision, null, "still pending");
    } finally {
      await other.shutdown();
    }
  },
});

/** The next `view` event whose "Needs you" keys satisfy `pred`. */
async function viewWhere(
  sse: SseConnection,
  pred: (keys: string[]) => boolean,
): Promise<string[]> {
  for (;;) {
    const ev = await sse.nextNamed("view", 10_000);
    const keys = (JSON.parse(ev.data!).needs_you as Array<{ key: string }>)
      .map((i) => i.key);
    if (pred(keys)) return keys;
  }
}

Deno.test("the event stream pushes a view when an approval appears and when it is decided; a restart keeps what is pending", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-needs-you-" });
  try {
    let id: number;
    {
      await using b = await setup(TOKEN, dir);
      await publish(b.url, status("feat-b", "working", "busy"));
      const sse = await openSse(`${b.url}/events`, AUTH);
      try {
        await viewWhere(sse, (k) => k.length === 0);
        id = await ask(b.url, "feat-a", "make deploy");
        await viewWhere(sse, (k) => k.includes(`approval-${id}`));
        await publish(b.url, {
          type: "agent.question",
          agent_id: "feat-b",
          payload: { question: "Ship it?" },
        });
        await viewWhere(sse, (k) => k.some((x) => x.startsWith("question-")));
        const other = await ask(b.url, "feat-a", "make clean");
        await viewWhere(sse, (k) => k.includes(`approval-${other}`));
        const r = await call(`${b.url}/approvals/${other}/deny`, {
          method: "POST",
          headers: AUTH,
          body: { reason: "no" },
        });
        assert.equal(r.status, 200);
        const left = await viewWhere(
          sse,
          (k) => !k.includes(`approval-${other}`),
        );
        assert.deepEqual(left.map((k) => k.replace(/\d+$/, "N")), [
          "approval-N",
          "question-N",
        ]);
      } finally {
        await sse.close();
      }
    }
    // The same session's broker again: the pending request and the open
    // question are still there (both rebuilt from the durable log).
    await using again = await setup(TOKEN, dir);
    const view = await call(`${again.url}/needs-you`, { headers: AUTH });
    const items = view.json.items as Array<{ key: string; kind: string }>;
    assert.deepEqual(items.map((i) => i.kind), ["approval", "question"]);
    assert.equal(items[0]!.key, `approval-${id}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "bound beyond loopback, a phone that reaches the machine by its LAN name logs in with the token link and approves" +
    (HAVE_CHROMIUM ? "" : " (SKIPPED: /usr/bin/chromium is not installed)"),
  ignore: !HAVE_CHROMIUM,
  async fn() {
    // `[broker] bind = "0.0.0.0"`; the browser resolves the machine's name
    // to 127.0.0.1, so Host and Origin are `my-box.lan:<port>`, as from a
    // phone on the LAN (the test never leaves the machine).
    await using b = await setup(TOKEN, undefined, "0.0.0.0");
    const local = `http://127.0.0.1:${b.port}`;
    const id = await ask(local, "feat-a", "make deploy");
    await using browser = await launchChromium({
      ...PHONE,
      args: ["--host-resolver-rules=MAP my-box.lan 127.0.0.1"],
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    const lan = `http://my-box.lan:${b.port}`;
    await page.goto(
      `${lan}/?token=${encodeURIComponent(TOKEN)}#approval-${id}`,
    );
    assert.equal(page.url().split("#")[0], `${lan}${dashboardPath(TOKEN)}/`);
    await page.tap(`#approval-${id} button.ny-approve`);
    await page.waitForSelector(`#approval-${id}`, { state: "detached" });
    const d = (await record(local, id)).decision;
    assert.equal(d?.decision, "allow");
    assert.equal(d?.by, "web");
  },
});
