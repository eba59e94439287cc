/**
 * Runnable worktrees and per-agent ports, end to end (real git, real tmux):
 * `.worktreeinclude` copies ignored files into new worktrees on `start` and
 * on `add` (never a link out of the repo, nothing in `git status`);
 * `[worktree] setup` runs once per new worktree before the agent's CLI, not
 * again on reattach or recovery, and a failing one leaves the session
 * running; each pane's `PORT`/`GIT_PAW_PORTS` (read by a tiny CLI that
 * writes them to a file) are distinct across two sessions and stable across
 * a recovery.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  capture,
  exists,
  makeWorld,
  panes,
  statusJson,
  waitFor,
  type World,
} from "./e2e_helpers.ts";

type Doc = {
  worktrees: Array<
    { branch: string; worktree_path: string; port?: number; ports?: string }
  >;
};

/**
 * A CLI that records what its pane got: `<dir>/<agent>.port` holds
 * `PORT GIT_PAW_PORTS SETUP-DONE-BEFORE?`, then it idles.
 */
async function writePorterCli(dir: string): Promise<string> {
  const cli = join(dir, "porter.sh");
  await Deno.writeTextFile(
    cli,
    `#!/bin/sh
if [ -f "${dir}/runs-$GIT_PAW_AGENT_ID.txt" ]; then s=yes; else s=no; fi
printf '%s %s %s\\n' "$PORT" "$GIT_PAW_PORTS" "$s" > "${dir}/$GIT_PAW_AGENT_ID.port.tmp"
mv "${dir}/$GIT_PAW_AGENT_ID.port.tmp" "${dir}/$GIT_PAW_AGENT_ID.port"
exec sleep 600
`,
  );
  await Deno.chmod(cli, 0o755);
  return cli;
}

async function seen(
  dir: string,
  agent: string,
): Promise<{ port: string; ports: string; setupFirst: string }> {
  const text = await waitFor(
    `${agent}'s pane to report its ports`,
    async () => {
      try {
        return await Deno.readTextFile(join(dir, `${agent}.port`));
      } catch {
        return null;
      }
    },
  );
  const [port, ports, setupFirst] = text.trim().split(" ");
  return { port: port!, ports: ports!, setupFirst: setupFirst! };
}

async function git(w: World, args: string[], cwd?: string): Promise<string> {
  const r = await w.git(args, cwd);
  assert.equal(r.code, 0, `git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

Deno.test("start and add copy the ignored files .worktreeinclude selects into new worktrees, never a link out of the repo", async () => {
  await using w = await makeWorld({ project: "proj" });
  const outside = join(w.root, "outside-secret.txt");
  await Deno.writeTextFile(outside, "not yours");
  await Deno.writeTextFile(
    join(w.repo, ".gitignore"),
    ".env\nlocal/\nsecret.link\ninlink\nbig.log\n",
  );
  await Deno.writeTextFile(
    join(w.repo, ".worktreeinclude"),
    "# files a worktree needs\n.env\nlocal/\nsecret.link\ninlink\nloose.txt\n",
  );
  await git(w, ["add", ".gitignore", ".worktreeinclude"]);
  await git(w, ["commit", "-q", "-m", "ignore"]);
  await Deno.writeTextFile(join(w.repo, ".env"), "TOKEN=1\n", { mode: 0o600 });
  await Deno.chmod(join(w.repo, ".env"), 0o600);
  await Deno.mkdir(join(w.repo, "local", "deep"), { recursive: true });
  await Deno.writeTextFile(join(w.repo, "local", "deep", "a.json"), "{}\n");
  await Deno.symlink(outside, join(w.repo, "secret.link"));
  await Deno.symlink(".env", join(w.repo, "inlink"));
  await Deno.writeTextFile(join(w.repo, "big.log"), "ignored, not included");
  // Selected but not ignored: copying it would show in `git status`.
  await Deno.writeTextFile(join(w.repo, "loose.txt"), "untracked");

  const r = await w.paw([
    "start",
    "--no-broker",
    "--cli",
    "demo",
    "--branches",
    "feat/a",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /not copying secret\.link: it is a link leading out/);
  const check = async (wt: string) => {
    assert.equal(await Deno.readTextFile(join(wt, ".env")), "TOKEN=1\n");
    assert.equal((await Deno.stat(join(wt, ".env"))).mode! & 0o777, 0o600);
    assert.equal(
      await Deno.readTextFile(join(wt, "local", "deep", "a.json")),
      "{}\n",
    );
    assert.equal(await Deno.readLink(join(wt, "inlink")), ".env");
    assert.ok(!exists(join(wt, "secret.link")), "link out of the repo copied");
    let dangling = false;
    try {
      await Deno.lstat(join(wt, "secret.link"));
      dangling = true;
    } catch { /* absent */ }
    assert.ok(!dangling);
    assert.ok(!exists(join(wt, "big.log")), "a file not selected was copied");
    assert.ok(!exists(join(wt, "loose.txt")), "a file not ignored was copied");
    const st = await git(w, ["status", "--porcelain", "-uall"], wt);
    for (const f of [".env", "local/", "inlink"]) {
      assert.ok(!st.includes(f), `${f} shows in git status:\n${st}`);
    }
    // git-paw commits none of them.
    const tracked = await git(w, ["ls-files"], wt);
    assert.ok(!tracked.includes(".env") && !tracked.includes("local/"));
  };
  const a = (await statusJson(w) as unknown as Doc).worktrees[0]!;
  await check(a.worktree_path);

  const add = await w.paw(["add", "feat/b", "--cli", "demo"]);
  assert.equal(add.code, 0, add.stderr);
  const b = (await statusJson(w) as unknown as Doc).worktrees.find((x) =>
    x.branch === "feat/b"
  )!;
  await check(b.worktree_path);
});

Deno.test("[worktree] setup runs once per new worktree before the CLI, not on reattach or recovery; a failure names the agent; ports stay", async () => {
  await using w = await makeWorld({ project: "proj" });
  const cli = await writePorterCli(w.root);
  await w.writeConfig(`[clis.porter]
command = "${cli}"

[worktree]
setup = [["sh", "-c", "echo run >> ${w.root}/runs-$GIT_PAW_AGENT_ID.txt; echo $PORT > ${w.root}/setup-port-$GIT_PAW_AGENT_ID; echo from-setup; test $GIT_PAW_AGENT_ID != feat-bad"]]
`);
  const r = await w.paw([
    "start",
    "--no-broker",
    "--cli",
    "porter",
    "--branches",
    "feat/a,feat/bad",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Setting up feat\/a\.\.\./);
  assert.match(r.stderr, /\.\.\.feat\/a set up \(\d+\.\ds\)/);
  const fail = r.stderr.split("\n").find((l) => l.includes("feat-bad"));
  assert.ok(fail, r.stderr);
  assert.match(fail, /setup of agent 'feat-bad' \(feat\/bad\) failed/);
  const log = join(
    w.root,
    "data",
    "git-paw",
    "sessions",
    "paw-proj",
    "setup-feat-bad.log",
  );
  assert.ok(fail.includes(log), fail);
  assert.equal((await Deno.stat(log)).mode! & 0o777, 0o600);
  assert.match(await Deno.readTextFile(log), /^\$ sh -c .*\nfrom-setup\n/);

  // Both panes run their CLI; the setup had finished before each started.
  const a = await seen(w.root, "feat-a");
  const bad = await seen(w.root, "feat-bad");
  assert.equal(a.setupFirst, "yes");
  assert.equal(bad.setupFirst, "yes");
  assert.notEqual(a.port, bad.port);
  assert.equal(a.ports, `${a.port}-${Number(a.port) + 9}`);
  assert.ok(Number(a.port) >= 20000, a.port);
  // The setup saw the agent's PORT too.
  assert.equal(
    (await Deno.readTextFile(join(w.root, "setup-port-feat-a"))).trim(),
    a.port,
  );
  const doc = await statusJson(w) as unknown as Doc;
  const byBranch = new Map(doc.worktrees.map((x) => [x.branch, x]));
  assert.equal(byBranch.get("feat/a")!.port, Number(a.port));
  assert.equal(byBranch.get("feat/a")!.ports, a.ports);
  const runs = async (agent: string) =>
    (await Deno.readTextFile(join(w.root, `runs-${agent}.txt`))).split("\n")
      .filter((l) => l).length;
  assert.equal(await runs("feat-a"), 1);

  // Reattach: nothing is set up again.
  const again = await w.paw(["start"]);
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /Setting up/);
  assert.equal(await runs("feat-a"), 1);

  // Recovery after the tmux server died: same ports, no setup.
  await Deno.remove(join(w.root, "feat-a.port"));
  await Deno.remove(join(w.root, "feat-bad.port"));
  await w.tmux(["kill-server"]);
  const rec = await w.paw(["start"]);
  assert.equal(rec.code, 0, rec.stderr);
  assert.match(rec.stderr, /Recovering session/);
  assert.doesNotMatch(rec.stderr, /Setting up/);
  assert.equal(await runs("feat-a"), 1);
  assert.equal(await runs("feat-bad"), 1);
  const a2 = await seen(w.root, "feat-a");
  const bad2 = await seen(w.root, "feat-bad");
  assert.equal(a2.port, a.port);
  assert.equal(a2.ports, a.ports);
  assert.equal(bad2.port, bad.port);
});

Deno.test("two sessions of two repos at once get distinct port blocks, released on purge", async () => {
  await using a = await makeWorld({ project: "proj" });
  await using b = await makeWorld({
    project: "other",
    root: join(a.root, "b"),
  });
  // One machine: one data dir (the port registry), one tmux server.
  b.env.TMUX_TMPDIR = a.env.TMUX_TMPDIR!;
  b.env.XDG_DATA_HOME = a.env.XDG_DATA_HOME!;
  const cli = await writePorterCli(a.root);
  await a.writeConfig(`[clis.porter]\ncommand = "${cli}"\n`);
  await b.writeConfig(
    `[clis.porter]\ncommand = "${cli}"\n\n[worktree]\nports = 5\n`,
  );
  const [ra, rb] = await Promise.all([
    a.paw(["start", "--no-broker", "--cli", "porter", "--branches", "a1,a2"]),
    b.paw(["start", "--no-broker", "--cli", "porter", "--branches", "b1,b2"]),
  ]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const blocks: Array<[number, number]> = [];
  for (const agent of ["a1", "a2", "b1", "b2"]) {
    const s = await seen(a.root, agent);
    const [first, last] = s.ports.split("-").map(Number);
    assert.equal(Number(s.port), first);
    assert.equal(last! - first! + 1, agent.startsWith("a") ? 10 : 5);
    blocks.push([first!, last!]);
  }
  for (const [i, x] of blocks.entries()) {
    for (const y of blocks.slice(i + 1)) {
      assert.ok(x[1] < y[0] || y[1] < x[0], `${x} overlaps ${y}`);
    }
  }
  const registry = join(a.root, "data", "git-paw", "ports.json");
  const entries = () =>
    Deno.readTextFile(registry).then((t) =>
      (JSON.parse(t).entries as Array<{ session: string }>).map((e) =>
        e.session
      ).sort()
    );
  assert.deepEqual(await entries(), [
    "paw-other",
    "paw-other",
    "paw-proj",
    "paw-proj",
  ]);
  const p = await b.paw(["purge", "--force"]);
  assert.equal(p.code, 0, p.stderr);
  assert.deepEqual(await entries(), ["paw-proj", "paw-proj"]);
});

Deno.test("the dashboard pane and the web view show each agent's PORT", async () => {
  await using w = await makeWorld({ project: "proj" });
  const r = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(r.code, 0, r.stderr);
  const doc = await statusJson(w) as unknown as Doc & { broker_url: string };
  const port = doc.worktrees[0]!.port!;
  assert.ok(port >= 20000, String(port));
  const dash = (await panes(w, "paw-proj")).find((p) =>
    p.role === "dashboard"
  )!;
  await waitFor(
    "the agent row with its port",
    async () => (await capture(w, dash.id)).includes(`feat-a :${port}`),
  );
  const view = await waitFor("the web view's agent row", async () => {
    const res = await fetch(`${doc.broker_url}/view`);
    const j = await res.json() as { agents: Array<{ port: string }> };
    return j.agents[0]?.port ? j.agents[0] : null;
  });
  assert.equal(view.port, String(port));
});
