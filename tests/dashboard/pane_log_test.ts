import assert from "node:assert/strict";
import { join } from "node:path";
import {
  appendToFileShellCommand,
  paneLogFileName,
  paneLogPath,
  pipePaneCommand,
  shellQuote,
} from "../../lib/dashboard/pane_log.ts";
import { escapeTmuxFormat } from "../../lib/adapters/tmux.ts";
import { waitFor } from "../_helpers/wait.ts";

/** Names that break naive quoting; several try to create a `canary*` file. */
const HOSTILE = [
  "plain",
  "with space",
  "it's",
  `dq"uote`,
  "$(touch canary)",
  "`touch canary2`",
  "new\nline",
  "semi;colon;",
  "back\\slash",
  "glob*?[x]",
  "$HOME and ${HOME}",
  "#{pane_id}",
  "#(touch canary3)",
  "100%Y%%",
  "-dash",
  "ünïcødé ✓",
  "'; touch canary4; '",
];

async function readDirNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("paneLogPath() maps / in the branch to -- under .git-paw/logs/<session>", () => {
  assert.equal(
    paneLogPath("/r", "paw-x", "feat/a/b"),
    join("/r", ".git-paw", "logs", "paw-x", "feat--a--b.log"),
  );
  assert.equal(paneLogFileName("main"), "main.log");
});

Deno.test("shellQuote() refuses NUL and always wraps in single quotes", () => {
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
  assert.equal(shellQuote(""), "''");
  assert.throws(() => shellQuote("a\0b"), TypeError);
});

Deno.test("escapeTmuxFormat() doubles # and % for pipe-pane commands", () => {
  assert.equal(
    escapeTmuxFormat("#{a} %Y ##", { strftime: true }),
    "##{a} %%Y ####",
  );
});

Deno.test("appendToFileShellCommand() writes to the exact path and runs nothing when sh -c runs it", async () => {
  const root = await Deno.makeTempDir({ prefix: "paw-panelog-" });
  try {
    for (const name of HOSTILE) {
      const path = join(root, "logs", name, `${name}.log`);
      const child = new Deno.Command("sh", {
        args: ["-c", appendToFileShellCommand(path)],
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
        cwd: join(root),
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(`line for ${name}\n`));
      await w.close();
      const { code, stderr } = await child.output();
      assert.equal(
        code,
        0,
        `sh failed for ${JSON.stringify(name)}: ${
          new TextDecoder().decode(stderr)
        }`,
      );
      assert.equal(await Deno.readTextFile(path), `line for ${name}\n`);
    }
    // Appends, never truncates.
    const again = new Deno.Command("sh", {
      args: [
        "-c",
        appendToFileShellCommand(join(root, "logs", "it's", "it's.log")),
      ],
      stdin: "piped",
      stdout: "null",
    }).spawn();
    const w = again.stdin.getWriter();
    await w.write(new TextEncoder().encode("second\n"));
    await w.close();
    assert.equal((await again.status).code, 0);
    assert.equal(
      await Deno.readTextFile(join(root, "logs", "it's", "it's.log")),
      "line for it's\nsecond\n",
    );
    // Nothing else was created: no canary anywhere, one dir per name.
    assert.deepEqual(await readDirNames(root), ["logs"]);
    assert.deepEqual(
      await readDirNames(join(root, "logs")),
      [...HOSTILE].sort(),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function tmux(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command("tmux", {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

Deno.test("pipePaneCommand() logs a real tmux pane to hostile paths and expands nothing", async () => {
  const root = await Deno.makeTempDir({ prefix: "paw-panelog-tmux-" });
  const sock = await Deno.makeTempDir({ prefix: "paw-tmux-" });
  const env = { TMUX_TMPDIR: sock, TMUX: "" };
  const work = join(root, "work");
  await Deno.mkdir(work);
  try {
    await tmux(
      env,
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "80",
      "-y",
      "20",
      "-c",
      work,
      "sh",
    );
    for (const [i, name] of HOSTILE.entries()) {
      const path = join(root, "logs", name, `${name}.log`);
      await tmux(env, "pipe-pane", "-o", "-t", "t:0.0", pipePaneCommand(path));
      const marker = `MARK${i}X`;
      // Printed via arithmetic so the typed command line never contains it.
      await tmux(
        env,
        "send-keys",
        "-t",
        "t:0.0",
        `echo MARK$((${i}))X`,
        "Enter",
      );
      await waitFor(
        `${marker} in ${path}`,
        async () => (await Deno.readTextFile(path)).includes(marker),
      );
      await tmux(env, "pipe-pane", "-t", "t:0.0"); // close the pipe
    }
    assert.deepEqual(await readDirNames(root), ["logs", "work"]);
    assert.deepEqual(await readDirNames(work), []);
    assert.deepEqual(
      await readDirNames(join(root, "logs")),
      [...HOSTILE].sort(),
    );
  } finally {
    await new Deno.Command("tmux", {
      args: ["kill-server"],
      env,
      stderr: "null",
      stdout: "null",
    }).output();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(sock, { recursive: true });
  }
});
