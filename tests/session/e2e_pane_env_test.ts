/**
 * The panes get the environment of `git paw start` (credentials, config
 * dirs), also from a tmux server started earlier without it, and no secret
 * is on a command line; `git paw stop` ends even a CLI that ignores the
 * hang-up; a Gemini pane commits as the user, with git-paw's hooks, though
 * its shell hides the user's git config.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  exists,
  makeWorld,
  statusJson,
  waitFor,
  type World,
} from "./e2e_helpers.ts";

/** A CLI that ignores SIGHUP/SIGTERM, writes its env and pid, and sleeps. */
async function stubbornCli(w: World, name: string): Promise<string> {
  const path = join(w.root, name);
  await Deno.writeTextFile(
    path,
    [
      "#!/bin/sh",
      "trap '' HUP TERM",
      'env > "$PWD/cli.env.tmp" && mv "$PWD/cli.env.tmp" "$PWD/cli.env"',
      'echo $$ > "$PWD/cli.pid"',
      // A detached daemon, as Codex's app-server: reparented away from the pane.
      `(setsid sh -c 'trap "" HUP TERM; echo $$ > "$PWD/daemon.pid"; exec sleep 600' &)`,
      "while :; do sleep 1; done",
      "",
    ].join("\n"),
  );
  await Deno.chmod(path, 0o755);
  return path;
}

/** Command lines of every process we can read. */
async function allCmdlines(): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const raw = await Deno.readFile(`/proc/${e.name}/cmdline`);
      out.push(new TextDecoder().decode(raw).replaceAll("\0", " "));
    } catch { /* gone */ }
  }
  return out;
}

/** Gone, or a zombie nobody reaped (the container's pid 1 may not). */
async function ended(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

function envOf(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

Deno.test("panes get start's environment from a tmux server started without it; no secret on a command line; stop ends a CLI that ignores SIGHUP/SIGTERM", async () => {
  await using w = await makeWorld({ project: "envy" });
  const cli = await stubbornCli(w, "stubborn.sh");
  await w.writeConfig(
    `[broker]\nbind = "0.0.0.0"\n\n[clis.stubborn]\ncommand = "${cli}"\n`,
  );
  // A tmux server that knows nothing of the user's credentials.
  const bare = await new Deno.Command("tmux", {
    args: ["new-session", "-d", "-s", "other", "sleep", "600"],
    cwd: w.root,
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", TMUX_TMPDIR: w.root, HOME: w.root },
  }).output();
  assert.equal(bare.code, 0, new TextDecoder().decode(bare.stderr));
  const secret = `sk-test-${crypto.randomUUID()}`;
  w.env.ANTHROPIC_API_KEY = secret;
  w.env.CODEX_HOME = join(w.root, "codex-home");
  w.env.PORT = "1"; // the pane's own port wins over the launching env's
  const r = await w.paw(["start", "--cli", "stubborn", "--branches", "feat/a"]);
  delete w.env.ANTHROPIC_API_KEY;
  assert.equal(r.code, 0, r.stderr);
  const receipt = JSON.parse(
    await Deno.readTextFile(
      join(w.root, "data", "git-paw", "sessions", "paw-envy.json"),
    ),
  );
  const token: string = receipt.broker_token;
  assert.ok(token.length >= 32);
  const wt: string = receipt.worktrees[0].worktree_path;
  const env = await waitFor("the CLI's env", async () => {
    const f = join(wt, "cli.env");
    return exists(f) ? envOf(await Deno.readTextFile(f)) : null;
  });
  assert.equal(env.get("ANTHROPIC_API_KEY"), secret);
  assert.equal(env.get("CODEX_HOME"), join(w.root, "codex-home"));
  assert.equal(env.get("GIT_PAW_BROKER_TOKEN"), token);
  assert.equal(env.get("GIT_PAW_AGENT_ID"), "feat-a");
  assert.match(env.get("PORT") ?? "", /^\d{4,5}$/);
  assert.ok(!env.has("GIT_PAW_ENV_FILE"), "the file's name is not passed on");
  // No secret in any process's argv, nor in pane titles.
  for (const line of await allCmdlines()) {
    assert.ok(!line.includes(secret), `secret in argv: ${line}`);
    assert.ok(!line.includes(token), `token in argv: ${line}`);
  }
  const titles = await w.tmux(["list-panes", "-a", "-F", "#{pane_title}"]);
  assert.ok(!titles.stdout.includes(secret) && !titles.stdout.includes(token));
  // The env files are owner-only, in an owner-only dir.
  const dir = join(
    w.root,
    "data",
    "git-paw",
    "sessions",
    "paw-envy",
    "pane-env",
  );
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(files, ["agent-feat-a.json", "dashboard.json"]);
  for (const f of files) {
    assert.equal((await Deno.stat(join(dir, f))).mode! & 0o777, 0o600, f);
  }

  const pid = Number((await Deno.readTextFile(join(wt, "cli.pid"))).trim());
  const daemon = await waitFor("the daemon's pid", async () => {
    const f = join(wt, "daemon.pid");
    const t = exists(f) ? (await Deno.readTextFile(f)).trim() : "";
    return t ? Number(t) : null;
  });
  // The user's own daemon, started outside git-paw: never touched.
  const mine = new Deno.Command("sleep", { args: ["600"] }).spawn();
  assert.ok(!(await ended(pid)) && !(await ended(daemon)));
  const stop = await w.paw(["stop"]);
  assert.equal(stop.code, 0, stop.stderr);
  await waitFor("the stubborn CLI ended", () => ended(pid), 5000);
  await waitFor("its detached daemon ended", () => ended(daemon), 5000);
  assert.ok(!(await ended(mine.pid)), "an unrelated process survives");
  mine.kill("SIGKILL");
  await mine.status;
  assert.ok(!exists(dir), "stop removed the env files");
  // The other tmux session (not ours) is untouched.
  const other = await w.tmux(["has-session", "-t", "other"]);
  assert.equal(other.code, 0);
});

Deno.test("a gemini pane commits as the user and runs git-paw's post-commit hook though its shell hides the git config", async () => {
  await using w = await makeWorld({ project: "gem" });
  // A stand-in for Gemini CLI's shell: no global config, hooks turned off.
  const fake = join(w.root, "fake-gemini.sh");
  await Deno.writeTextFile(
    fake,
    [
      "#!/bin/sh",
      "export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1",
      "export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.hooksPath GIT_CONFIG_VALUE_0=",
      'echo gem > gem.txt && git add gem.txt && git commit -q -m "from gemini" > commit.log 2>&1',
      'echo "$?" > commit.code',
      "sleep 600",
      "",
    ].join("\n"),
  );
  await Deno.chmod(fake, 0o755);
  await w.writeConfig(`[clis.gemini]\ncommand = "${fake}"\n`);
  // The user's identity lives in their config (here the repo's), not in env.
  for (const k of Object.keys(w.env)) {
    if (/^GIT_(AUTHOR|COMMITTER)_/.test(k)) delete w.env[k];
  }
  await w.git(["config", "user.name", "Gem User"]);
  await w.git(["config", "user.email", "gem@user.invalid"]);
  // The user's own post-commit hook: git-paw's wrapper hands over to it.
  const userHook = join(w.repo, ".git", "hooks", "post-commit");
  await Deno.mkdir(join(w.repo, ".git", "hooks"), { recursive: true });
  await Deno.writeTextFile(userHook, '#!/bin/sh\ntouch "$PWD/hook.ran"\n');
  await Deno.chmod(userHook, 0o755);
  const r = await w.paw(["start", "--cli", "gemini", "--branches", "feat/g"]);
  assert.equal(r.code, 0, r.stderr);
  const st = await statusJson(w);
  const wt: string = st.worktrees![0]!.worktree_path;
  const code = await waitFor("the commit", async () => {
    const f = join(wt, "commit.code");
    return exists(f) ? (await Deno.readTextFile(f)).trim() : null;
  });
  assert.equal(code, "0", await Deno.readTextFile(join(wt, "commit.log")));
  const who = await w.git(["log", "-1", "--format=%an <%ae>|%cn <%ce>"], wt);
  assert.equal(
    who.stdout.trim(),
    "Gem User <gem@user.invalid>|Gem User <gem@user.invalid>",
  );
  assert.ok(exists(join(wt, "hook.ran")), "the hooks ran");
  const receipt = JSON.parse(
    await Deno.readTextFile(
      join(w.root, "data", "git-paw", "sessions", "paw-gem.json"),
    ),
  );
  await waitFor("the committed artifact in the broker log", async () => {
    const log = await Deno.readTextFile(receipt.broker_log_path).catch(
      () => "",
    );
    return log.includes("[feat-g] artifact: committed");
  });
});
