/**
 * The supervisor layout against a real, isolated tmux server: tmux accepts
 * the computed layout string for 1..25 agents (its checksum and geometry),
 * the panes end up where they should (supervisor top left, dashboard top
 * right, agents in rows of at most 5, in order), panes created in another
 * order are moved into place, and the window hook restores the row heights
 * after the window is resized.
 */
import assert from "node:assert/strict";
import { setTmuxEnv, tmuxEnv } from "../../lib/adapters/tmux.ts";
import { relayoutWindow } from "../../lib/session/launch.ts";
import { agentRowSizes, rowShares } from "../../lib/core/supervisor_layout.ts";
import { waitFor } from "./e2e_helpers.ts";

type Server = AsyncDisposable & { dir: string };

async function server(): Promise<Server> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "pawsuplayout" }),
  );
  setTmuxEnv({ TMUX_TMPDIR: dir, TMUX: "" });
  // Keeps the server up between the sessions a test makes.
  await tmux(["new-session", "-d", "-s", "keep", "sleep", "600"]);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await tmux(["kill-server"]).catch(() => "");
      setTmuxEnv(undefined);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function tmux(args: string[]): Promise<string> {
  const o = await new Deno.Command("tmux", {
    args: ["-f", "/dev/null", ...args],
    env: tmuxEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(o.stderr);
  if (!o.success) throw new Error(`tmux ${args.join(" ")}: ${err}`);
  return new TextDecoder().decode(o.stdout).trim();
}

/**
 * Session `s` (480x140) with a dashboard pane, `agents` agent panes and the
 * supervisor pane split in front of the dashboard (what `start` does).
 */
async function sessionOf(agents: number): Promise<void> {
  await tmux([
    ...["new-session", "-d", "-s", "s", "-x", "480", "-y", "140"],
    ...["sleep", "600"],
  ]);
  await tmux(["set-option", "-p", "-t", "=s:.0", "@paw_role", "dashboard"]);
  await tmux(["set-option", "-w", "-t", "=s:", "pane-border-status", "top"]);
  for (let i = 0; i < agents; i++) {
    await tmux(["select-layout", "-t", "=s:", "tiled"]);
    const id = await tmux([
      ...["split-window", "-t", "=s:", "-P", "-F", "#{pane_id}"],
      ...["sleep", "600"],
    ]);
    await tmux(["set-option", "-p", "-t", id, "@paw_role", `a${i}`]);
    await tmux(["set-option", "-p", "-t", id, "@paw_agent", `a${i}`]);
  }
  const dash = await tmux([
    "display-message",
    "-p",
    "-t",
    "=s:.0",
    "#{pane_id}",
  ]);
  const sup = await tmux([
    ...["split-window", "-b", "-t", dash, "-P", "-F", "#{pane_id}"],
    ...["sleep", "600"],
  ]);
  await tmux(["set-option", "-p", "-t", sup, "@paw_role", "supervisor"]);
}

type Pane = {
  index: number;
  role: string;
  left: number;
  top: number;
  width: number;
  height: number;
};

async function panes(): Promise<{ w: number; h: number; panes: Pane[] }> {
  const out = await tmux([
    "list-panes",
    "-t",
    "=s:",
    "-F",
    "#{pane_index} #{@paw_role} #{pane_left} #{pane_top} #{pane_width} #{pane_height} #{window_width} #{window_height}",
  ]);
  const rows = out.split("\n").map((l) => l.split(" "));
  return {
    w: Number(rows[0]![6]),
    h: Number(rows[0]![7]),
    panes: rows.map((r) => ({
      index: Number(r[0]),
      role: r[1]!,
      left: Number(r[2]),
      top: Number(r[3]),
      width: Number(r[4]),
      height: Number(r[5]),
    })),
  };
}

/** Null when the window shows the supervisor layout, else what is wrong. */
function problem(
  g: Awaited<ReturnType<typeof panes>>,
  agents: number,
): string | null {
  const [sup, dash, ...rest] = g.panes;
  if (sup?.role !== "supervisor") return `pane 0 is ${sup?.role}`;
  if (dash?.role !== "dashboard") return `pane 1 is ${dash?.role}`;
  if (sup.left !== 0 || sup.top > 1) return "supervisor not top left";
  if (dash.top !== sup.top || dash.left <= sup.left) {
    return "dashboard not top right";
  }
  if (Math.abs(sup.width - dash.width) > 1) return "top row not halved";
  const sizes = agentRowSizes(agents);
  let i = 0;
  let lastTop = sup.top;
  for (const n of sizes) {
    const row = rest.slice(i, i + n);
    if (row.length !== n) return `row of ${row.length}, wanted ${n}`;
    const top = row[0]!.top;
    if (top <= lastTop) return `row at ${top} not below ${lastTop}`;
    for (const [j, p] of row.entries()) {
      if (p.role !== `a${i + j}`) return `pane ${p.index} is ${p.role}`;
      if (p.top !== top) return `pane ${p.role} not in its row`;
      if (j > 0 && p.left <= row[j - 1]!.left) return `${p.role} out of order`;
    }
    lastTop = top;
    i += n;
  }
  // Heights follow the shares (within the borders' and rounding's slack).
  const share = rowShares(sizes.length);
  // (The pane is its cell less the border status line.)
  const want = Math.floor(g.h * share.top / 100) - 1;
  if (Math.abs(sup.height - want) > 1) {
    return `top row ${sup.height} rows, wanted about ${want} of ${g.h}`;
  }
  return null;
}

Deno.test("relayoutWindow() lays out 1..25 agents under the supervisor and dashboard", async () => {
  await using _s = await server();
  for (const n of [1, 2, 5, 6, 10, 11, 17, 24, 25]) {
    await sessionOf(n);
    // The split put the supervisor first; swap it elsewhere to check the
    // reordering too.
    if (n % 2 === 0) {
      await tmux(["swap-pane", "-d", "-s", "=s:.0", "-t", "=s:.2"]);
    }
    await relayoutWindow("s");
    const g = await panes();
    assert.equal(g.panes.length, n + 2);
    assert.equal(problem(g, n), null, `n=${n}`);
    await tmux(["kill-session", "-t", "=s"]);
  }
});

Deno.test("the supervisor window's hook restores the row heights after a resize", async () => {
  await using _s = await server();
  await sessionOf(7);
  await relayoutWindow("s");
  assert.equal(problem(await panes(), 7), null);
  // (Checked: without the hook, tmux's own resize leaves the top row
  // 28 rows of 60 here, not 24.)
  for (const [w, h] of [[200, 60], [300, 90], [480, 140]]) {
    await tmux(["resize-window", "-t", "=s:", "-x", `${w}`, "-y", `${h}`]);
    await waitFor(`supervisor layout at ${w}x${h}`, async () => {
      const g = await panes();
      if (g.w !== w || g.h !== h) return false;
      const p = problem(g, 7);
      if (p) throw new Error(p);
      return true;
    }, 10_000);
  }
});
