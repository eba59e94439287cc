/**
 * The tmux adapter against a real, isolated tmux server: titles are
 * verbatim and run nothing, `;`-ending arguments stay arguments, options are
 * session-scoped, and pane commands run without a shell.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  escapeTmuxFormat,
  hasSession,
  listPanes,
  newSession,
  setPaneTitle,
  setSessionOption,
  setTmuxEnv,
  splitWindow,
  tmuxArg,
  tmuxBatch,
  tmuxEnv,
} from "../../lib/adapters/tmux.ts";

async function withServer(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "pawtmux" }),
  );
  setTmuxEnv({ TMUX_TMPDIR: dir, TMUX: "" });
  try {
    await fn(dir);
  } finally {
    await new Deno.Command("tmux", {
      args: ["kill-server"],
      env: tmuxEnv(),
      stderr: "null",
      stdout: "null",
    })
      .output();
    setTmuxEnv(undefined);
    await Deno.remove(dir, { recursive: true });
  }
}

async function show(args: string[]): Promise<string> {
  const o = await new Deno.Command("tmux", {
    args,
    env: tmuxEnv(),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return new TextDecoder().decode(o.stdout).trim();
}

Deno.test("setPaneTitle() keeps hostile titles verbatim and runs nothing", async () => {
  await withServer(async (dir) => {
    const canary = join(dir, "canary");
    const pane = await newSession("t", {
      cwd: dir,
      env: {},
      argv: ["sleep", "60"],
    });
    for (
      const title of [
        `feat/#(touch ${canary})`,
        `#{pane_id}`,
        "x;",
        "a\\;",
        "%Y ünï",
      ]
    ) {
      await setPaneTitle(pane, title);
      const [p] = await listPanes("t");
      assert.equal(p!.title, title);
    }
    assert.throws(() => Deno.statSync(canary), Deno.errors.NotFound);
  });
});

Deno.test("newSession() and splitWindow() run argv without a shell, in a format-escaped cwd", async () => {
  await withServer(async (dir) => {
    const odd = join(dir, "d#(touch canary)");
    await Deno.mkdir(odd);
    const out = join(dir, "out");
    const pane = await newSession("t", {
      cwd: odd,
      env: { PAW_X: "$(echo no)" },
      argv: [
        "sh",
        "-c",
        `printf '%s|%s|%s' "$PWD" "$PAW_X" "$1" > ${out}; exec sleep 60`,
        "sh",
        "$(touch canary);",
      ],
    });
    assert.match(pane, /^%\d+$/);
    // The shell's redirection creates the file before printf fills it.
    for (let i = 0; i < 100 && !hasText(out); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(
      await Deno.readTextFile(out),
      `${odd}|$(echo no)|$(touch canary);`,
    );
    const second = await splitWindow(`=t:`, {
      cwd: dir,
      env: {},
      argv: ["sleep", "60"],
    });
    assert.notEqual(second, pane);
    assert.ok(!exists(join(odd, "canary")) && !exists(join(dir, "canary")));
  });
});

function hasText(p: string): boolean {
  try {
    return Deno.statSync(p).size > 0;
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("setSessionOption() changes the session only, never the global options", async () => {
  await withServer(async (dir) => {
    await newSession("t", { cwd: dir, env: {}, argv: ["sleep", "60"] });
    const before = await show(["show-options", "-g", "mouse"]);
    await setSessionOption("t", "mouse", "on");
    assert.equal(
      await show(["show-options", "-t", "=t:", "mouse"]),
      "mouse on",
    );
    assert.equal(await show(["show-options", "-g", "mouse"]), before);
    assert.equal(await hasSession("t"), "alive");
    assert.equal(await hasSession("t2"), "stale");
  });
});

Deno.test("tmuxBatch() keeps arguments ending in ';' as arguments", async () => {
  await withServer(async (dir) => {
    const [pane] = await tmuxBatch([[
      "new-session",
      "-d",
      "-s",
      "t",
      "-P",
      "-F",
      "#{pane_id}",
      "-c",
      dir,
      "--",
      "sleep",
      "60",
    ]]);
    await tmuxBatch([
      ["select-pane", "-t", pane!, "-T", "one;"],
      ["set-option", "-p", "-t", pane!, "@paw_role", "two;"],
    ]);
    const [p] = await listPanes("t");
    assert.equal(p!.title, "one;");
    assert.equal(p!.role, "two;");
  });
});

Deno.test("escapeTmuxFormat() and tmuxArg() keep user text literal for tmux", () => {
  assert.equal(escapeTmuxFormat("feat/#(rm -rf ~)"), "feat/##(rm -rf ~)");
  assert.equal(tmuxArg("feat;"), "feat\\;");
  assert.equal(tmuxArg("a\\;"), "a\\\\;");
  assert.equal(tmuxArg(";"), "\\;");
  assert.equal(tmuxArg("a;b"), "a;b");
});
