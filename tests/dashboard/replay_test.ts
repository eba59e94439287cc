import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AnsiStripper,
  branchFromLogFile,
  findOnPath,
  listLogSessions,
  matchLog,
  pickLogSession,
  replayLog,
  stripAnsi,
} from "../../lib/dashboard/replay.ts";
import { replayCommand } from "../../lib/dashboard/replay_cmd.ts";
import { AppError } from "../../lib/core/errors.ts";
import { pawCommand } from "../_helpers/paw_command.ts";
import { initRepo } from "../_helpers/repo.ts";

const ESC = "\x1b";
/** A realistic TUI log: colours, cursor moves, titles, charset switch, CRLF. */
const LADEN = [
  `${ESC}]0;claude — feat/a${ESC}\\`,
  `${ESC}[?1049h${ESC}[H${ESC}[2J`,
  `${ESC}[1;32m✓ tests passed${ESC}[0m\r\n`,
  `${ESC}(B${ESC}[38;5;245mdim${ESC}[m text\tTAB\r\n`,
  `${ESC}]8;;https://x.example${ESC}\\link${ESC}]8;;${ESC}\\\r\n`,
  `spin 1\rspin 2\r\n`,
  `bell\x07 back\bspace ${ESC}7saved${ESC}8\r\n`,
  `${ESC}P+q544e${ESC}\\dcs gone\r\n`,
  `c1 \u009b31mred\u009b0m ünï ✓\n`,
].join("");
const CLEAN = [
  "✓ tests passed\n",
  "dim text\tTAB\n",
  "link\n",
  "spin 1\nspin 2\n",
  "bell backspace saved\n",
  "dcs gone\n",
  "c1 red ünï ✓\n",
].join("");

Deno.test("stripAnsi() removes CSI, OSC, DCS, ESC pairs and controls, keeps text", () => {
  assert.equal(stripAnsi(LADEN), CLEAN);
  assert.equal(stripAnsi("plain\n"), "plain\n");
  assert.equal(stripAnsi(`${ESC}]2;title\x07after`), "after");
  assert.equal(stripAnsi(`${ESC}]2;unterminated\nnext`), "\nnext");
  assert.equal(stripAnsi(`a${ESC}`), "a");
  assert.equal(stripAnsi(`x\r`), "x\n");
});

Deno.test("AnsiStripper gives the same result however the input is split", () => {
  for (let cut = 0; cut <= LADEN.length; cut++) {
    const s = new AnsiStripper();
    const got = s.push(LADEN.slice(0, cut)) + s.push(LADEN.slice(cut)) +
      s.flush();
    assert.equal(got, CLEAN, `split at ${cut}`);
  }
  const s = new AnsiStripper(); // one char at a time
  let got = "";
  for (const ch of LADEN) got += s.push(ch);
  assert.equal(got + s.flush(), CLEAN);
});

Deno.test("branchFromLogFile() maps -- back to /", () => {
  assert.equal(branchFromLogFile("feat--a--b.log"), "feat/a/b");
  assert.equal(branchFromLogFile("main.log"), "main");
});

async function makeLogs(
  repo: string,
  sessions: Record<string, Record<string, string>>,
) {
  let t = 1_700_000_000;
  for (const [name, files] of Object.entries(sessions)) {
    const dir = join(repo, ".git-paw", "logs", name);
    await Deno.mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, file), text);
      await Deno.utime(join(dir, file), t, t);
    }
    await Deno.utime(dir, t, t);
    t += 100; // later entries are newer
  }
}

Deno.test("listLogSessions() lists sessions newest first and pickLogSession() picks", async () => {
  const repo = await Deno.makeTempDir({ prefix: "paw-replay-" });
  try {
    assert.deepEqual(await listLogSessions(repo), []);
    assert.throws(
      () => pickLogSession([]),
      (e) => e instanceof AppError && /^No log sessions found/.test(e.message),
    );
    await makeLogs(repo, {
      "paw-old": { "main.log": "old\n" },
      "paw-new": { "feat--a.log": "a\n", "fix--b.log": "b\n", "notes.txt": "" },
    });
    const sessions = await listLogSessions(repo);
    assert.deepEqual(sessions.map((s) => s.name), ["paw-new", "paw-old"]);
    assert.deepEqual(sessions[0]!.logs.map((l) => [l.file, l.branch]), [
      ["feat--a.log", "feat/a"],
      ["fix--b.log", "fix/b"],
    ]);
    assert.equal(pickLogSession(sessions).name, "paw-new");
    assert.equal(pickLogSession(sessions, "paw-old").name, "paw-old");
    assert.throws(
      () => pickLogSession(sessions, "paw-nope"),
      (e) =>
        e instanceof AppError &&
        /Session 'paw-nope' not found/.test(e.message) &&
        /paw-new, paw-old/.test(e.message),
    );
    // Appending to an old session's log makes it the newest.
    const oldLog = join(repo, ".git-paw", "logs", "paw-old", "main.log");
    await Deno.utime(oldLog, 1_800_000_000, 1_800_000_000);
    assert.equal(pickLogSession(await listLogSessions(repo)).name, "paw-old");
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("matchLog() matches branch, stem, file name or a unique slug", async () => {
  const repo = await Deno.makeTempDir({ prefix: "paw-replay-" });
  try {
    await makeLogs(repo, {
      s: { "feat--a.log": "", "fix--b.log": "", "main.log": "" },
    });
    const [s] = await listLogSessions(repo);
    for (const q of ["feat/a", "feat--a", "feat--a.log", "feat-a"]) {
      assert.equal(matchLog(s!, q).file, "feat--a.log", q);
    }
    assert.equal(matchLog(s!, "main").file, "main.log");
    assert.throws(
      () => matchLog(s!, "feat/zzz"),
      (e) =>
        e instanceof AppError &&
        e.message ===
          "No log matching 'feat/zzz' in session 's'. Available branches: feat/a, fix/b, main",
    );
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("findOnPath() checks each PATH directory, skipping non-executables", async () => {
  const root = await Deno.makeTempDir({ prefix: "paw-path-" });
  try {
    const [a, b, c] = ["a", "b", "c"].map((d) => join(root, d));
    for (const d of [a, b, c]) await Deno.mkdir(d!);
    await Deno.writeTextFile(join(b!, "less"), "not executable");
    await Deno.chmod(join(b!, "less"), 0o644);
    await Deno.mkdir(join(a!, "less")); // a directory is not a program
    await Deno.writeTextFile(join(c!, "less"), "#!/bin/sh\n");
    await Deno.chmod(join(c!, "less"), 0o755);
    const path = [join(root, "missing"), a, b, c].join(":");
    assert.equal(findOnPath("less", path), join(c!, "less"));
    assert.equal(findOnPath("less", [a, b].join(":")), null);
    assert.equal(findOnPath("less", ""), null);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

function collector() {
  const chunks: Uint8Array[] = [];
  const out = new WritableStream<Uint8Array>({
    write(c) {
      chunks.push(c.slice());
    },
  });
  const bytes = () => {
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    return all;
  };
  return { out, bytes, text: () => new TextDecoder().decode(bytes()) };
}

Deno.test("replayLog() streams a large ANSI log stripped", async () => {
  const repo = await Deno.makeTempDir({ prefix: "paw-replay-" });
  try {
    const big = LADEN.repeat(5000); // ~1 MB, many chunk boundaries
    await makeLogs(repo, { s: { "feat--a.log": big } });
    const [s] = await listLogSessions(repo);
    const c = collector();
    await replayLog(matchLog(s!, "feat/a"), { out: c.out });
    assert.equal(c.text(), CLEAN.repeat(5000));
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("replayLog() with color pipes the raw log to `less -R` found on PATH", async () => {
  const repo = await Deno.makeTempDir({ prefix: "paw-replay-" });
  try {
    await makeLogs(repo, { s: { "feat--a.log": LADEN } });
    const bin1 = join(repo, "bin1");
    const bin2 = join(repo, "bin2");
    await Deno.mkdir(bin1);
    await Deno.mkdir(bin2);
    // A stand-in pager recording its argv and stdin.
    await Deno.writeTextFile(
      join(bin2, "less"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${repo}/less.args"\ncat > "${repo}/less.stdin"\n`,
    );
    await Deno.chmod(join(bin2, "less"), 0o755);
    const [s] = await listLogSessions(repo);
    const c = collector();
    const warnings: string[] = [];
    await replayLog(matchLog(s!, "feat/a"), {
      color: true,
      out: c.out,
      warn: (l) => warnings.push(l),
      pathVar: `${bin1}:${bin2}`,
    });
    assert.equal(await Deno.readTextFile(join(repo, "less.args")), "-R\n");
    assert.equal(await Deno.readTextFile(join(repo, "less.stdin")), LADEN);
    assert.equal(c.bytes().length, 0);
    assert.deepEqual(warnings, []);
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("replayLog() with color and no less prints the raw log and warns", async () => {
  const repo = await Deno.makeTempDir({ prefix: "paw-replay-" });
  try {
    await makeLogs(repo, { s: { "feat--a.log": LADEN } });
    const [s] = await listLogSessions(repo);
    const c = collector();
    const warnings: string[] = [];
    await replayLog(matchLog(s!, "feat/a"), {
      color: true,
      out: c.out,
      warn: (l) => warnings.push(l),
      pathVar: join(repo, "nowhere"),
    });
    assert.equal(c.text(), LADEN);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /less.*not found/);
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("replayCommand() refuses contradictory flags", async () => {
  await assert.rejects(
    replayCommand({ branch: "x", list: true, repo: "/nonexistent" }),
    (e) => e instanceof AppError && e.exitCode === 2,
  );
  await assert.rejects(
    replayCommand({ branch: "x", json: true, repo: "/nonexistent" }),
    (e) => e instanceof AppError && e.exitCode === 2,
  );
});

// ---- end to end: the real CLI in a real git repo ----

const GIT_ENV = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.invalid",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.invalid",
  NO_COLOR: "1",
};

async function run(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const out = await pawCommand(args, {
    cwd,
    env: { ...GIT_ENV, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function git(cwd: string, ...args: string[]) {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_ENV,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("git paw replay works end to end: list, json, strip, errors, from a worktree", async () => {
  const root = await Deno.makeTempDir({ prefix: "paw-replay-e2e-" });
  const repo = join(root, "proj");
  try {
    await initRepo(repo, { files: {} });

    let r = await run(repo, ["replay", "feat/a"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: No log sessions found\. Session logging may not be enabled/,
    );

    await makeLogs(repo, {
      "paw-proj": { "feat--a.log": LADEN, "fix--b.log": "b\n" },
    });

    r = await run(repo, ["replay", "--list"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "paw-proj (2 branches)\n  feat--a.log  →  feat/a\n  fix--b.log  →  fix/b\n",
    );

    r = await run(repo, ["replay", "--list", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.sessions[0].session, "paw-proj");
    assert.deepEqual(
      j.sessions[0].logs.map((l: { branch: string }) => l.branch),
      ["feat/a", "fix/b"],
    );

    r = await run(repo, ["replay", "feat/a"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, CLEAN);
    assert.ok(!r.stdout.includes(ESC));

    r = await run(repo, ["replay", "feat/zzz"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /No log matching 'feat\/zzz' in session 'paw-proj'\. Available branches: feat\/a, fix\/b/,
    );

    r = await run(repo, ["replay", "feat/a", "--session", "paw-other"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Session 'paw-other' not found/);

    // From inside a linked worktree, the main checkout's logs are used.
    await git(repo, "worktree", "add", "-q", "-b", "feat/a", join(root, "wt"));
    r = await run(join(root, "wt"), ["replay", "fix--b"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "b\n");

    // --color: the first `less` on PATH gets the raw log on stdin.
    const bin = join(root, "bin");
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      join(bin, "less"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${root}/less.args"\ncat > "${root}/less.stdin"\n`,
    );
    await Deno.chmod(join(bin, "less"), 0o755);
    r = await run(repo, ["replay", "feat/a", "--color"], {
      PATH: `${join(root, "nothing-here")}:${bin}:${
        Deno.env.get("PATH") ?? ""
      }`,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(join(root, "less.args")), "-R\n");
    assert.equal(await Deno.readTextFile(join(root, "less.stdin")), LADEN);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("git paw replay stops quietly when its reader goes away (| head)", async () => {
  const root = await Deno.makeTempDir({ prefix: "paw-replay-pipe-" });
  const repo = join(root, "proj");
  try {
    await initRepo(repo, { empty: true });
    await makeLogs(repo, { s: { "feat--a.log": LADEN.repeat(20_000) } });
    const child = pawCommand(["replay", "feat/a"], {
      cwd: repo,
      env: GIT_ENV,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length > 0);
    await reader.cancel(); // like `head` exiting
    const stderr = await new Response(child.stderr).text();
    const { code } = await child.status;
    assert.equal(stderr, "");
    assert.equal(code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
