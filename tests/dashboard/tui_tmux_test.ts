/**
 * The real TUI in a real tmux pane: `_tui_host.ts` starts a broker on port 0
 * and runs runDashboardTui() on the pane's terminal; we publish over HTTP,
 * type with `send-keys` and read the screen with `capture-pane`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { waitFor } from "../_helpers/wait.ts";

const HOST = fromFileUrl(new URL("./_tui_host.ts", import.meta.url));
const CONFIG = fromFileUrl(new URL("../../deno.json", import.meta.url));
const SESSION = "paw-tui-test";

type Pane = {
  dir: string;
  env: Record<string, string>;
  url: string;
  urlFile: string;
  tmux: (...args: string[]) => Promise<string>;
  screen: () => Promise<string[]>;
  waitScreen: (
    what: string,
    fn: (lines: string[]) => boolean,
  ) => Promise<string[]>;
  publish: (msg: unknown) => Promise<void>;
  close: () => Promise<void>;
};

async function startPane(
  opts: {
    color: boolean;
    crash?: boolean;
    config?: unknown;
    width?: number;
    height?: number;
  },
): Promise<Pane> {
  const dir = await Deno.makeTempDir({ prefix: "tui-tmux-" });
  const tmuxDir = join(dir, "tmux");
  await Deno.mkdir(tmuxDir);
  const sock = join(tmuxDir, "sock");
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k === "TMUX" || k === "TMUX_PANE" || k === "NO_COLOR") continue;
    env[k] = v;
  }
  env.TMUX_TMPDIR = tmuxDir;
  env.LANG = "C.UTF-8";
  env.LC_ALL = "C.UTF-8";
  env.TERM = "xterm-256color";
  if (!opts.color) env.NO_COLOR = "1";
  if (opts.crash) env.TUI_HOST_CRASH = "1";
  const tmux = async (...args: string[]) => {
    const out = await new Deno.Command("tmux", {
      args: ["-u", "-S", sock, ...args],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(
        `tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return text;
  };
  const urlFile = join(dir, "url");
  await tmux(
    "start-server",
    ";",
    "set-option",
    "-g",
    "remain-on-exit",
    "on",
    ";",
    "new-session",
    "-d",
    "-s",
    SESSION,
    "-x",
    String(opts.width ?? 120),
    "-y",
    String(opts.height ?? 40),
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    "--config",
    CONFIG,
    HOST,
    urlFile,
    JSON.stringify(opts.config ?? {}),
  );
  const url = await waitFor("broker URL", async () => {
    try {
      return (await Deno.readTextFile(urlFile)) || null;
    } catch {
      return null;
    }
  }, 60_000);
  const screen = async () =>
    (await tmux("capture-pane", "-p", "-t", SESSION)).split("\n");
  return {
    dir,
    env,
    url,
    urlFile,
    tmux,
    screen,
    waitScreen: (what, fn) =>
      waitFor(what, async () => {
        const s = await screen();
        return fn(s) ? s : null;
      }),
    publish: async (msg) => {
      const res = await fetch(`${url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(msg),
      });
      await res.body?.cancel();
      assert.equal(res.status, 202);
    },
    close: async () => {
      try {
        await tmux("kill-server");
      } catch { /* already gone */ }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const HOSTILE = "evil\x1b[2J\x1b]2;pwned-title\x07\x1b[31mred\u009b1m\u202eltr";

Deno.test("runDashboardTui() in a tmux pane shows rows, answers keys, escapes hostile text and restores the terminal", async () => {
  const pane = await startPane({ color: true });
  try {
    let s = await pane.waitScreen(
      "title",
      (l) => l[0]!.startsWith(`git-paw dashboard — ${SESSION}`),
    );
    assert.ok(s[0]!.includes(`broker ${pane.url}`));
    assert.ok(s.some((l) => l.includes("No agents connected yet")));
    assert.equal(
      (await pane.tmux(
        "display-message",
        "-p",
        "-t",
        SESSION,
        "#{alternate_on}",
      )).trim(),
      "1",
    );

    await pane.publish({
      type: "agent.status",
      agent_id: "supervisor",
      payload: {
        status: "working",
        modified_files: [],
        message: "reviewing",
        phase: "review",
      },
    });
    await pane.publish({
      type: "agent.status",
      agent_id: "feat/auth",
      payload: {
        status: "working",
        modified_files: ["a.ts"],
        message: HOSTILE,
        cli: "claude",
      },
    });
    await pane.publish({
      type: "agent.blocked",
      agent_id: "feat-db",
      payload: { needs: "the schema", from: "feat-auth" },
    });
    s = await pane.waitScreen(
      "three rows",
      (l) =>
        l.some((x) => /^! feat-db /.test(x)) &&
        l.some((x) => x.startsWith("3 agents:")) &&
        l.includes("⚠ Attention (1)") &&
        l.filter((x) => / · (status|blocked) · /.test(x)).length === 3,
    );
    const sup = s.findIndex((l) => /^ {2}supervisor /.test(l));
    assert.ok(sup > 0, s.join("\n"));
    assert.match(s[sup + 1]!, /^─+$/);
    assert.match(
      s[sup + 2]!,
      /^ {2}feat-auth +claude +🔵 working +\d+s ago +evil␛\[2J␛\]2;pwned-title␇␛\[31mred/,
    );
    assert.ok(s.includes("⚠ Attention (1)"), s.join("\n"));
    assert.ok(
      s.some((l) =>
        l.startsWith("3 agents: 2 working, 0 done, 1 blocked, 0 committed")
      ),
    );
    // The hostile text changed nothing: title line intact, pane title not set.
    assert.ok(s[0]!.startsWith("git-paw dashboard"));
    const title = await pane.tmux(
      "display-message",
      "-p",
      "-t",
      SESSION,
      "#{pane_title}",
    );
    assert.ok(!title.includes("pwned"), title);
    // Colour is on (NO_COLOR unset): SGR codes present in the pane.
    const esc = await pane.tmux("capture-pane", "-p", "-e", "-t", SESSION);
    assert.ok(esc.includes("\x1b[1m"));

    // Newest first: blocked, status(feat-auth), status(supervisor).
    const rowsOf = (l: string[]) =>
      l.filter((x) => / · (status|blocked) · /.test(x));
    assert.match(rowsOf(s)[0]!, /^› .* · blocked · feat-db · /);
    await pane.tmux("send-keys", "-t", SESSION, "j");
    s = await pane.waitScreen(
      "selection moved",
      (l) => /^› .* · status · feat-auth · /.test(rowsOf(l)[1] ?? ""),
    );
    await pane.tmux("send-keys", "-t", SESSION, "Enter");
    s = await pane.waitScreen(
      "overlay",
      (l) =>
        l.some((x) => x.includes("┌ seq 2 · status · feat-auth")) &&
        l.some((x) => x.includes("\\u001b[2J")) &&
        l.some((x) => x.startsWith("└")),
    );
    assert.ok(s.some((x) => x.includes('"agent_id": "feat-auth"')));
    assert.ok(
      s.some((x) => x.includes("\\u001b[2J")),
      "JSON shows the escape as text",
    );
    await pane.tmux("send-keys", "-t", SESSION, "Escape");
    s = await pane.waitScreen(
      "overlay closed",
      (l) => !l.some((x) => x.includes("┌ seq")),
    );
    await pane.tmux("send-keys", "-t", SESSION, "3");
    s = await pane.waitScreen(
      "filter",
      (l) => l.some((x) => x.includes("[3:blocked]")) && rowsOf(l).length === 1,
    );
    await pane.tmux("send-keys", "-t", SESSION, "a");
    s = await pane.waitScreen("all", (l) => rowsOf(l).length === 3);
    await pane.tmux("send-keys", "-t", SESSION, "l");
    s = await pane.waitScreen(
      "log hidden",
      (l) =>
        l.some((x) => x.includes("broker log hidden — press l to show")) &&
        rowsOf(l).length === 0,
    );
    assert.equal(rowsOf(s).length, 0);
    await pane.tmux("send-keys", "-t", SESSION, "l");
    await pane.waitScreen("log shown", (l) => rowsOf(l).length === 3);

    // Resize: everything still fits, with … where cut.
    await pane.tmux("resize-window", "-t", SESSION, "-x", "50", "-y", "20");
    s = await pane.waitScreen(
      "narrow",
      (l) => l.some((x) => x.includes("…")) && l[0]!.length <= 50,
    );
    for (const l of s) assert.ok([...l].length <= 50, l);

    // q quits and the terminal is restored (normal screen, tty sane).
    await pane.tmux("send-keys", "-t", SESSION, "q");
    await assertRestored(pane);
  } finally {
    await pane.close();
  }
});

Deno.test("runDashboardTui() under NO_COLOR draws no colour but keeps the symbols", async () => {
  const pane = await startPane({ color: false, width: 100, height: 24 });
  try {
    await pane.publish({
      type: "agent.status",
      agent_id: "feat-a",
      payload: { status: "working", modified_files: [] },
    });
    await pane.waitScreen(
      "row",
      (l) => l.some((x) => x.includes("🔵 working")),
    );
    const esc = await pane.tmux("capture-pane", "-p", "-e", "-t", SESSION);
    assert.ok(
      // deno-lint-ignore no-control-regex
      !/\x1b\[[0-9;]*m/.test(esc.replace(/\x1b\[0?m/g, "")),
      "no SGR colour codes",
    );
    await pane.tmux("send-keys", "-t", SESSION, "q");
    await assertRestored(pane);
  } finally {
    await pane.close();
  }
});

/** After the TUI returned: normal screen, cursor shown, tty cooked (echo). */
async function assertRestored(pane: Pane, opts: { readLine?: boolean } = {}) {
  await waitFor("host done", async () => {
    try {
      return await Deno.readTextFile(pane.urlFile + ".done");
    } catch {
      return null;
    }
  });
  assert.equal(await paneState(pane, "#{alternate_on}"), "0");
  assert.equal(await paneState(pane, "#{cursor_flag}"), "1");
  let s = await pane.screen();
  assert.ok(
    !s.some((l) => l.includes("git-paw dashboard")),
    "dashboard gone from the normal screen",
  );
  await pane.tmux("send-keys", "-t", SESSION, "-l", "echo-check");
  s = await pane.waitScreen(
    "typed text echoes (cooked tty)",
    (l) => l.some((x) => x.includes("echo-check")),
  );
  if (opts.readLine === false) {
    // A read cut short by a signal may still own the next input chunk, so
    // only the echo is checked; the test ends the process itself.
    const pid = Number(await paneState(pane, "#{pane_pid}"));
    Deno.kill(pid, "SIGKILL");
  } else {
    await pane.tmux("send-keys", "-t", SESSION, "Enter");
    const line = await waitFor("line read", async () => {
      try {
        return (await Deno.readTextFile(pane.urlFile + ".line")) || null;
      } catch {
        return null;
      }
    });
    assert.equal(line, "echo-check\n", "line discipline is back to canonical");
  }
  await waitFor(
    "pane dead",
    async () => (await paneState(pane, "#{pane_dead}")) === "1" ? true : null,
  );
}

async function paneState(pane: Pane, fmt: string): Promise<string> {
  return (await pane.tmux("display-message", "-p", "-t", SESSION, fmt)).trim();
}

Deno.test("runDashboardTui() restores the terminal on SIGTERM", async () => {
  const pane = await startPane({ color: true, width: 80, height: 24 });
  try {
    await pane.waitScreen("up", (l) => l[0]!.startsWith("git-paw dashboard"));
    assert.equal(await paneState(pane, "#{alternate_on}"), "1");
    const pid = Number(await paneState(pane, "#{pane_pid}"));
    Deno.kill(pid, "SIGTERM");
    await assertRestored(pane, { readLine: false });
  } finally {
    await pane.close();
  }
});

Deno.test("runDashboardTui() restores the terminal when the process crashes", async () => {
  const pane = await startPane({
    color: true,
    width: 80,
    height: 24,
    crash: true,
  });
  try {
    await pane.waitScreen("up", (l) => l[0]!.startsWith("git-paw dashboard"));
    await waitFor(
      "pane dead",
      async () => (await paneState(pane, "#{pane_dead}")) === "1" ? true : null,
    );
    assert.notEqual(
      await paneState(pane, "#{pane_dead_status}"),
      "0",
      "it did crash",
    );
    assert.equal(await paneState(pane, "#{alternate_on}"), "0");
    const s = await pane.screen();
    assert.ok(
      s.join("\n").includes("simulated crash"),
      "the error is visible on the normal screen",
    );
  } finally {
    await pane.close();
  }
});
