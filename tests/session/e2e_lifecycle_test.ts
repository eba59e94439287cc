/**
 * The whole lifecycle as a user runs it, on a real repo and an isolated real
 * tmux server: start → status → stop → start (recover) → tmux server killed
 * → start (recover, uncommitted file kept) → add → remove (refused while
 * dirty, then --force) → purge.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  capture,
  demoIdle,
  exists,
  makeWorld,
  panes,
  statusJson,
  waitFor,
} from "./e2e_helpers.ts";

type Status = {
  session: string | null;
  status?: string;
  tmux_running?: boolean;
  broker_url?: string | null;
  worktrees?: Array<
    { branch: string; cli: string; worktree_path: string; port?: number }
  >;
};

async function brokerStatus(url: string): Promise<{ session?: string } | null> {
  try {
    const r = await fetch(`${url}/status`, {
      signal: AbortSignal.timeout(2000),
    });
    if (!r.ok) {
      await r.body?.cancel();
      return null;
    }
    return await r.json();
  } catch {
    return null;
  }
}

Deno.test({
  name:
    "git paw start/stop/recover/add/remove/purge does the whole lifecycle on real git and tmux",
  async fn(t) {
    await using w = await makeWorld({ project: "proj" });
    const S = "paw-proj";
    let url = "";
    const wtA = join(w.root, "proj-feat-a");
    const wtB = join(w.root, "proj-feat-b");

    await t.step(
      "start without a TTY builds the session and prints the attach hint",
      async () => {
        const r = await w.paw([
          "start",
          "--cli",
          "demo",
          "--branches",
          "feat/a,feat/b",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Session 'paw-proj' started in detached mode\./);
        assert.match(r.stdout, /Attach with: {2}tmux attach -t paw-proj/);
        assert.ok(exists(wtA) && exists(wtB));
        const ps = await panes(w, S);
        assert.deepEqual(ps.map((p) => p.title), [
          "dashboard",
          "feat/a",
          "feat/b",
        ]);
        assert.deepEqual(ps.map((p) => p.agent), ["", "feat-a", "feat-b"]);
        // git-paw's own files do not dirty the user's checkout.
        assert.equal((await w.git(["status", "--porcelain"])).stdout, "");
      },
    );

    await t.step(
      "status --json names the session, worktrees and broker; the broker answers for this session",
      async () => {
        const s = await statusJson(w) as Status;
        assert.equal(s.session, S);
        assert.equal(s.status, "active");
        assert.equal(s.tmux_running, true);
        assert.deepEqual(
          s.worktrees!.map(({ branch, cli, worktree_path }) => ({
            branch,
            cli,
            worktree_path,
          })),
          [
            { branch: "feat/a", cli: "demo", worktree_path: wtA },
            { branch: "feat/b", cli: "demo", worktree_path: wtB },
          ],
        );
        // Each agent has its own dev ports.
        assert.notEqual(s.worktrees![0]!.port, s.worktrees![1]!.port);
        url = s.broker_url!;
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
        const b = await waitFor("broker /status", () => brokerStatus(url));
        assert.equal(b?.session, S);
        // The demo agents ran in their worktrees with the env we gave them.
        await waitFor(
          "demo agent commit in feat/a",
          () => exists(join(wtA, "DEMO-feat-a.md")),
        );
        const ps = await panes(w, S);
        await waitFor(
          "agent pane output",
          async () => (await capture(w, ps[1]!.id)).includes("agent 'feat-a'"),
        );
      },
    );

    await t.step("stop keeps worktrees and state", async () => {
      const r = await w.paw(["stop"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /Session stopped\. Worktrees and state preserved\./,
      );
      assert.equal((await w.tmux(["has-session", "-t", `=${S}`])).code, 1);
      assert.ok(exists(wtA) && exists(wtB));
      const s = await statusJson(w) as Status;
      assert.equal(s.status, "stopped");
    });

    await t.step(
      "start recovers the stopped session with the same broker port",
      async () => {
        await waitFor(
          "old broker gone",
          async () => !(await brokerStatus(url)),
        );
        const r = await w.paw(["start"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Recovering session 'paw-proj'/);
        const s = await statusJson(w) as Status;
        assert.equal(s.status, "active");
        assert.equal(s.broker_url, url);
        assert.equal(s.worktrees!.length, 2);
        const b = await waitFor("broker back", () => brokerStatus(url));
        assert.equal(b?.session, S);
      },
    );

    await t.step(
      "after the tmux server dies, start recovers and keeps uncommitted work",
      async () => {
        await Deno.writeTextFile(join(wtA, "uncommitted.txt"), "precious\n");
        await w.tmux(["kill-server"]);
        const st = await statusJson(w) as Status;
        assert.equal(st.status, "stale");
        const r = await w.paw(["start"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Recovering session/);
        assert.equal(
          await Deno.readTextFile(join(wtA, "uncommitted.txt")),
          "precious\n",
        );
        const s = await statusJson(w) as Status;
        assert.equal(s.status, "active");
        assert.deepEqual(
          s.worktrees!.map((x) => x.branch),
          ["feat/a", "feat/b"],
        );
        const ps = await panes(w, S);
        assert.deepEqual(ps.map((p) => p.title), [
          "dashboard",
          "feat/a",
          "feat/b",
        ]);
      },
    );

    await t.step("add puts a new agent in its own pane", async () => {
      const r = await w.paw(["add", "feat/c"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /Added 'feat\/c' to session 'paw-proj' \(pane 3\)\./,
      );
      const ps = await panes(w, S);
      assert.deepEqual(ps.map((p) => p.title), [
        "dashboard",
        "feat/a",
        "feat/b",
        "feat/c",
      ]);
      const s = await statusJson(w) as Status;
      assert.deepEqual(s.worktrees!.map((x) => x.cli), [
        "demo",
        "demo",
        "demo",
      ]);
    });

    await t.step(
      "remove refuses a dirty worktree and lists the file; --force removes it",
      async () => {
        const r = await w.paw(["remove", "feat/a"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /uncommitted\.txt/);
        assert.match(r.stderr, /--force/);
        assert.ok(exists(join(wtA, "uncommitted.txt")));
        const f = await w.paw(["remove", "feat/a", "--force"]);
        assert.equal(f.code, 0, f.stderr);
        assert.match(f.stdout, /Removed 'feat\/a' from session 'paw-proj'\./);
        assert.ok(!exists(wtA));
        const ps = await panes(w, S);
        assert.deepEqual(ps.map((p) => p.title), [
          "dashboard",
          "feat/b",
          "feat/c",
        ]);
      },
    );

    await t.step(
      "purge without a TTY needs --force; with it everything is gone",
      async () => {
        // A demo agent started by the recovery or by add edits its file
        // before committing it: purge would refuse that as dirty (exit 1)
        // before it asks for confirmation.
        for (const p of (await panes(w, S)).slice(1)) {
          await demoIdle(w, p.id, join(w.root, `proj-${p.agent}`));
        }
        const r = await w.paw(["purge"]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /--force/);
        assert.ok(exists(wtB));
        const p = await w.paw(["purge", "--force"]);
        assert.equal(p.code, 0, p.stderr);
        assert.match(p.stdout, /Purged session 'paw-proj'\./);
        assert.ok(!exists(wtB));
        assert.ok(!exists(join(w.root, "proj-feat-c")));
        assert.equal((await w.tmux(["has-session", "-t", `=${S}`])).code, 1);
        const s = await statusJson(w);
        assert.equal(s.session, null);
        assert.ok(
          !exists(join(w.root, "data", "git-paw", "sessions", `${S}.json`)),
        );
        assert.ok(!exists(join(w.repo, ".git-paw", "sessions", `${S}.json`)));
        const wl = await w.git(["worktree", "list"]);
        assert.equal(wl.stdout.trim().split("\n").length, 1);
      },
    );
  },
});
