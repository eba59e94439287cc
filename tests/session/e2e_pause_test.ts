/**
 * Pause/resume, pane logging and dry runs, end to end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  exists,
  makeWorld,
  panes,
  statusJson,
  waitFor,
} from "./e2e_helpers.ts";

async function answers(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/status`, {
      signal: AbortSignal.timeout(2000),
    });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}

Deno.test("git paw pause stops the dashboard only and start resumes it, with pane logs on every launch path", async () => {
  await using w = await makeWorld({ project: "proj" });
  await w.writeConfig("[logging]\nenabled = true\n");
  const r = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(r.code, 0, r.stderr);
  const s = await statusJson(w);
  await waitFor("broker up", () => answers(s.broker_url!));
  const logs = join(w.repo, ".git-paw", "logs", "paw-proj");
  await waitFor(
    "feat/a pane log",
    async () =>
      exists(join(logs, "feat--a.log")) &&
      (await Deno.readTextFile(join(logs, "feat--a.log"))).includes("[demo]"),
  );

  const p = await w.paw(["pause"]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /paused\. 1 CLI pane\(s\) still running/);
  assert.deepEqual((await panes(w, "paw-proj")).map((x) => x.title), [
    "feat/a",
  ]);
  assert.equal((await statusJson(w)).status, "paused");
  await waitFor("broker down", async () => !(await answers(s.broker_url!)));
  const again = await w.paw(["pause"]);
  assert.match(again.stdout, /already paused/);

  // Added while paused: its boot prompt waits for the resume.
  const a = await w.paw(["add", "feat/b"]);
  assert.equal(a.code, 0, a.stderr);
  const receipt = JSON.parse(
    await Deno.readTextFile(
      join(w.root, "data", "git-paw", "sessions", "paw-proj.json"),
    ),
  );
  assert.match(receipt.worktrees[1].pending_boot_prompt, /BOOT INSTRUCTIONS/);

  const st = await w.paw(["start"]);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stderr, /Restarting paused session 'paw-proj'/);
  assert.deepEqual((await panes(w, "paw-proj")).map((x) => x.title), [
    "dashboard",
    "feat/a",
    "feat/b",
  ]);
  await waitFor("broker back on the same URL", () => answers(s.broker_url!));
  const after = JSON.parse(
    await Deno.readTextFile(
      join(w.root, "data", "git-paw", "sessions", "paw-proj.json"),
    ),
  );
  assert.equal(after.status, "active");
  assert.equal(after.worktrees[1].pending_boot_prompt, undefined);
  await waitFor(
    "feat/b pane log (add path)",
    () => exists(join(logs, "feat--b.log")),
  );

  // Recover path logs too.
  await w.tmux(["kill-server"]);
  await Deno.remove(join(logs, "feat--a.log"));
  const rec = await w.paw(["start"]);
  assert.equal(rec.code, 0, rec.stderr);
  await waitFor(
    "feat/a pane log (recover path)",
    () => exists(join(logs, "feat--a.log")),
  );

  // The user quit the dashboard (q): start brings it back on reattach.
  // So does an agent pane closed after its CLI ended.
  const before = await panes(w, "paw-proj");
  const dash = before.find((p) => p.role === "dashboard")!;
  const paneB = before.find((p) => p.agent === "feat-b")!;
  await w.tmux(["kill-pane", "-t", dash.id]);
  await w.tmux(["kill-pane", "-t", paneB.id]);
  const re = await w.paw(["start"]);
  assert.equal(re.code, 0, re.stderr);
  assert.match(re.stderr, /Reattaching to session 'paw-proj'/);
  assert.match(re.stderr, /Restarting the dashboard/);
  assert.match(re.stderr, /Restarting the pane of feat\/b/);
  const now = await panes(w, "paw-proj");
  assert.equal(now[0]!.role, "dashboard");
  assert.deepEqual(now.map((p) => p.agent).sort(), ["", "feat-a", "feat-b"]);
  const url = (await statusJson(w)).broker_url!;
  await waitFor("broker answers again", () => answers(url));
});

Deno.test("git paw start --dry-run prints the plan and creates nothing", async () => {
  await using w = await makeWorld({ project: "proj" });
  const r = await w.paw([
    "start",
    "--dry-run",
    "--cli",
    "demo",
    "--branches",
    "feat/a,feat/b",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Dry run — session plan:/);
  assert.match(r.stdout, /Session: paw-proj/);
  assert.ok(
    r.stdout.includes(`feat/a → demo (${join(w.root, "proj-feat-a")})`),
  );
  assert.ok(!exists(join(w.root, "proj-feat-a")));
  assert.equal((await statusJson(w)).session, null);
  assert.equal((await w.tmux(["has-session", "-t", "=paw-proj"])).code, 1);
});
