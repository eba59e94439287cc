/**
 * layoutCmds() against a real, isolated tmux server without git-paw
 * running: the hook it installs keeps the dashboard a readable quarter of
 * the window through resizes, splits and closed panes, without looping,
 * and leaves zoomed windows and dashboard-less (tiled) windows their way.
 */
import assert from "node:assert/strict";
import { setTmuxEnv, tmuxBatch, tmuxEnv } from "../../lib/adapters/tmux.ts";
import { DASHBOARD_MIN_ROWS, layoutCmds } from "../../lib/session/layout.ts";
import { waitFor } from "./e2e_helpers.ts";

type Server = AsyncDisposable & { dir: string };

async function server(): Promise<Server> {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "pawlayout" }),
  );
  setTmuxEnv({ TMUX_TMPDIR: dir, TMUX: "" });
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
    args,
    env: tmuxEnv(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(o.stderr);
  if (!o.success) throw new Error(`tmux ${args.join(" ")}: ${err}`);
  return new TextDecoder().decode(o.stdout).trim();
}

/** A detached 480x140 window of `panes` panes; the first is the dashboard when `dashboard`. */
async function windowOf(
  panes: number,
  opts: { dashboard: boolean; borderStatus?: "top" | "off" },
): Promise<string> {
  const t = "=s:";
  await tmux([
    ...["new-session", "-d", "-s", "s", "-x", "480", "-y", "140"],
    ...["sleep", "600"],
  ]);
  for (let i = 1; i < panes; i++) {
    await tmux(["split-window", "-t", t, "sleep", "600"]);
    await tmux(["select-layout", "-t", t, "tiled"]);
  }
  if (opts.dashboard) {
    await tmux(["set-option", "-p", "-t", "=s:.0", "@paw_role", "dashboard"]);
  }
  const status = opts.borderStatus ?? "top";
  await tmux(["set-option", "-w", "-t", t, "pane-border-status", status]);
  await tmuxBatch(layoutCmds(t, { dashboard: opts.dashboard }));
  return t;
}

type Pane = { index: number; top: number; width: number; height: number };
type Geometry = {
  width: number;
  height: number;
  zoomed: boolean;
  panes: Pane[];
};

async function geometry(t: string): Promise<Geometry> {
  const out = await tmux([
    "list-panes",
    "-t",
    t,
    "-F",
    "#{pane_index} #{pane_top} #{pane_width} #{pane_height} #{window_width} #{window_height} #{window_zoomed_flag}",
  ]);
  const rows = out.split("\n").map((l) => l.split(" ").map(Number));
  return {
    width: rows[0]![4]!,
    height: rows[0]![5]!,
    zoomed: rows[0]![6] === 1,
    panes: rows.map(([index, top, width, height]) => ({
      index: index!,
      top: top!,
      width: width!,
      height: height!,
    })),
  };
}

/** Rows the dashboard pane should have in a window `height` rows high. */
function dashboardRows(height: number): number {
  return Math.max(DASHBOARD_MIN_ROWS, Math.floor(height / 4));
}

/**
 * Null when `g` is the dashboard layout for its size: pane 0 full width on
 * top with {@link dashboardRows}, the agents side by side below sharing
 * the rest; otherwise what is wrong.
 */
function dashboardProblem(g: Geometry): string | null {
  const [dash, ...agents] = g.panes;
  if (!dash || agents.length === 0) return "no panes";
  if (dash.width !== g.width) return `dashboard ${dash.width} wide`;
  if (dash.height !== dashboardRows(g.height)) {
    return `dashboard ${dash.height} rows in a window of ${g.height}`;
  }
  for (const a of agents) {
    if (a.top <= dash.top + dash.height) return `pane ${a.index} not below`;
    if (a.height < g.height - dash.height - 3) {
      return `pane ${a.index} only ${a.height} rows`;
    }
  }
  return null;
}

async function settled(t: string, w: number, h: number): Promise<Geometry> {
  let last: Geometry | null = null;
  await waitFor(`dashboard layout at ${w}x${h}`, async () => {
    last = await geometry(t);
    if (last.width !== w || last.height !== h) return false;
    const problem = dashboardProblem(last);
    if (problem) throw new Error(problem);
    return true;
  }, 10_000);
  return last!;
}

Deno.test("layoutCmds() keeps the dashboard a quarter of the window, at least 8 rows, through every resize", async (t) => {
  await using _s = await server();
  for (const borderStatus of ["top", "off"] as const) {
    await t.step(`pane-border-status ${borderStatus}`, async () => {
      const win = await windowOf(4, { dashboard: true, borderStatus });
      assert.equal(dashboardProblem(await geometry(win)), null);
      for (const [w, h] of [[200, 50], [120, 40], [80, 24], [480, 140]]) {
        await tmux(["resize-window", "-t", win, "-x", `${w}`, "-y", `${h}`]);
        const g = await settled(win, w!, h!);
        assert.ok(g.panes[0]!.height >= DASHBOARD_MIN_ROWS);
      }
      await tmux(["kill-session", "-t", "=s"]);
    });
  }
});

Deno.test("the layout hook re-applies after a split and a closed pane, and does not loop", async () => {
  await using _s = await server();
  const win = await windowOf(3, { dashboard: true });
  await tmux(["resize-window", "-t", win, "-x", "120", "-y", "40"]);
  await settled(win, 120, 40);
  // Count every layout change from now on.
  await tmux(["set-option", "-w", "-t", win, "@n", "0"]);
  await tmux([
    "set-hook",
    "-a",
    "-w",
    "-t",
    win,
    "window-layout-changed",
    "set-option -wF @n '#{e|+:#{@n},1}'",
  ]);
  await tmux(["split-window", "-t", `${win}.2`, "sleep", "600"]);
  await waitFor("four panes laid out", async () => {
    const g = await geometry(win);
    return g.panes.length === 4 && dashboardProblem(g) === null;
  }, 10_000);
  await tmux(["kill-pane", "-t", `${win}.1`]);
  await waitFor("three panes laid out", async () => {
    const g = await geometry(win);
    return g.panes.length === 3 && dashboardProblem(g) === null;
  }, 10_000);
  const count = async () =>
    Number(await tmux(["show-option", "-wqv", "-t", win, "@n"]));
  const n = await count();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await count(), n, "layout changes stopped");
  // Split, re-apply; close, re-apply: a handful, not a runaway.
  assert.ok(n <= 6, `${n} layout changes`);
});

Deno.test("the layout hook leaves a size the user dragged, and a zoomed window, until the next change", async () => {
  await using _s = await server();
  const win = await windowOf(3, { dashboard: true });
  await tmux(["resize-window", "-t", win, "-x", "120", "-y", "40"]);
  await settled(win, 120, 40);
  await tmux(["resize-pane", "-t", `${win}.0`, "-y", "20"]);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await geometry(win)).panes[0]!.height, 20);
  await tmux(["resize-pane", "-Z", "-t", `${win}.1`]);
  await tmux(["resize-window", "-t", win, "-x", "200", "-y", "50"]);
  await new Promise((r) => setTimeout(r, 200));
  const zoomed = await geometry(win);
  assert.ok(zoomed.zoomed, "still zoomed");
  // The zoomed pane has the whole window (less its border status line).
  assert.equal(zoomed.panes[1]!.height, 49);
  await tmux(["resize-pane", "-Z", "-t", `${win}.1`]);
  await settled(win, 200, 50);
});

Deno.test("without a dashboard the layout hook keeps the window tiled", async () => {
  await using _s = await server();
  const win = await windowOf(3, { dashboard: false });
  for (const [w, h] of [[200, 50], [80, 24]]) {
    await tmux(["resize-window", "-t", win, "-x", `${w}`, "-y", `${h}`]);
    await waitFor(`tiled at ${w}x${h}`, async () => {
      const g = await geometry(win);
      const [a, b, c] = g.panes;
      // tiled: two side by side on top, the third below; never a full-width
      // main pane over the others.
      return g.width === w && a!.top === b!.top && a!.width < w &&
        c!.top > a!.top && Math.abs(a!.height - c!.height) <= 2;
    }, 10_000);
  }
  // A split re-tiles into a 2x2 grid (a plain split would halve pane 2).
  await tmux(["split-window", "-t", `${win}.2`, "sleep", "600"]);
  await waitFor("a 2x2 grid", async () => {
    const [a, b, c, d] = (await geometry(win)).panes;
    return d !== undefined && a!.top === b!.top && c!.top === d.top &&
      c!.top > a!.top && Math.abs(c!.width - a!.width) <= 1 &&
      Math.abs(c!.height - a!.height) <= 2;
  }, 10_000);
});
