/**
 * The layout follows the terminal: real tmux clients (on ptys from
 * `script`, sized with `stty`) attach to a session `start` built detached,
 * their terminals are resized, agents are added and removed — and the
 * dashboard pane keeps a readable height (a quarter of the window, at least
 * 8 rows) with the agents sharing the rest; a session without a broker
 * stays tiled. git-paw is not running while tmux re-lays out.
 */
import assert from "node:assert/strict";
import { makeWorld, waitFor, type World } from "./e2e_helpers.ts";

const SESSION = "paw-proj";

/** A tmux client attached from a terminal of `rows` x `cols`. */
type Client = AsyncDisposable & {
  /** The client's terminal (`client_tty`). */
  tty: string;
  /** Resize the client's terminal (the client gets SIGWINCH). */
  resize(rows: number, cols: number): Promise<void>;
};

async function ttys(w: World): Promise<string[]> {
  const r = await w.tmux(["list-clients", "-F", "#{client_tty}"]);
  return r.code === 0 ? r.stdout.split("\n").filter((l) => l) : [];
}

async function attach(w: World, rows: number, cols: number): Promise<Client> {
  const before = await ttys(w);
  const child = new Deno.Command("script", {
    args: [
      "-qfc",
      `stty rows ${rows} cols ${cols} && exec tmux attach -t =${SESSION}`,
      "/dev/null",
    ],
    cwd: w.root,
    env: { ...w.env, TERM: "xterm-256color" },
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const tty = await waitFor(
    "the client attached",
    async () => (await ttys(w)).find((t) => !before.includes(t)),
  );
  return {
    tty,
    async resize(r, c) {
      const o = await new Deno.Command("stty", {
        args: ["-F", tty, "rows", `${r}`, "cols", `${c}`],
        stderr: "piped",
      }).output();
      assert.ok(o.success, new TextDecoder().decode(o.stderr));
    },
    async [Symbol.asyncDispose]() {
      await w.tmux(["detach-client", "-t", tty]);
      await child.stdin.close().catch(() => {});
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

type Pane = {
  index: number;
  role: string;
  top: number;
  width: number;
  height: number;
};
type Geometry = { width: number; height: number; panes: Pane[] };

async function geometry(w: World): Promise<Geometry> {
  const r = await w.tmux([
    "list-panes",
    "-t",
    `=${SESSION}:`,
    "-F",
    "#{pane_index} #{pane_top} #{pane_width} #{pane_height} #{window_width} #{window_height} #{@paw_role}",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split("\n").filter((l) => l).map((l) => l.split(" "));
  return {
    width: Number(rows[0]![4]),
    height: Number(rows[0]![5]),
    panes: rows.map((f) => ({
      index: Number(f[0]),
      top: Number(f[1]),
      width: Number(f[2]),
      height: Number(f[3]),
      role: f[6] ?? "",
    })),
  };
}

/**
 * Wait until the window is `cols` wide, `rows - 1` high (the client's
 * status line), holds `agents` agent panes and shows the dashboard layout:
 * pane 0 the dashboard, full width on top, at least 8 rows and about a
 * quarter of the window; the agents below it sharing the rest.
 */
async function dashboardLayout(
  w: World,
  rows: number,
  cols: number,
  agents: number,
): Promise<Geometry> {
  let g: Geometry | undefined;
  await waitFor(`dashboard layout at ${cols}x${rows}`, async () => {
    g = await geometry(w);
    if (g.width !== cols || g.height !== rows - 1) return false;
    if (g.panes.length !== agents + 1) return false;
    const [dash, ...rest] = g.panes;
    assert.equal(dash!.role, "dashboard");
    assert.equal(dash!.width, g.width, "dashboard full width");
    assert.ok(dash!.height >= 8, `dashboard ${dash!.height} rows`);
    const quarter = Math.floor(g.height / 4);
    assert.ok(
      dash!.height <= Math.max(8, quarter + 1) && dash!.height >= quarter - 1,
      `dashboard ${dash!.height} rows in ${g.height}`,
    );
    for (const a of rest) {
      assert.ok(a.top > dash!.top + dash!.height, `pane ${a.index} below`);
      assert.ok(
        a.height >= g.height - dash!.height - 3,
        `pane ${a.index}: ${a.height} rows`,
      );
    }
    return true;
  }, 20_000);
  return g!;
}

async function startDemo(w: World, extra: string[] = []): Promise<void> {
  const r = await w.paw([
    "start",
    ...extra,
    "--cli",
    "demo",
    "--branches",
    "a,b,c",
  ]);
  assert.equal(r.code, 0, r.stderr);
}

Deno.test("the dashboard keeps a readable height on attach, on every resize, and after add and remove", async (t) => {
  await using w = await makeWorld({ project: "proj" });
  await startDemo(w);
  const c = await attach(w, 50, 200);
  await t.step("attached from 200x50", async () => {
    const g = await dashboardLayout(w, 50, 200, 3);
    assert.equal(g.panes[0]!.height, 12);
  });
  await t.step("resized to 120x40 and 80x24", async () => {
    await c.resize(40, 120);
    await dashboardLayout(w, 40, 120, 3);
    await c.resize(24, 80);
    const small = await dashboardLayout(w, 24, 80, 3);
    assert.equal(small.panes[0]!.height, 8);
  });
  await t.step("add and remove at 80x24", async () => {
    const add = await w.paw(["add", "d"]);
    assert.equal(add.code, 0, add.stderr);
    await dashboardLayout(w, 24, 80, 4);
    const rm = await w.paw(["remove", "a"]);
    assert.equal(rm.code, 0, rm.stderr);
    await dashboardLayout(w, 24, 80, 3);
  });
  await t.step("resized back to 200x50", async () => {
    await c.resize(50, 200);
    await dashboardLayout(w, 50, 200, 3);
  });
  await c[Symbol.asyncDispose]();
  await t.step("a new client from 120x40, then one from 80x24", async () => {
    {
      await using _c = await attach(w, 40, 120);
      await dashboardLayout(w, 40, 120, 3);
    }
    await using _c = await attach(w, 24, 80);
    await dashboardLayout(w, 24, 80, 3);
  });
});

Deno.test("a session without a broker stays tiled whatever the client's size", async () => {
  await using w = await makeWorld({ project: "proj" });
  await startDemo(w, ["--no-broker"]);
  await using c = await attach(w, 24, 80);
  const tiled = async (rows: number, cols: number, n: number) => {
    await waitFor(`tiled at ${cols}x${rows}`, async () => {
      const g = await geometry(w);
      if (g.width !== cols || g.height !== rows - 1) return false;
      if (g.panes.length !== n) return false;
      const [a, b, ...rest] = g.panes;
      // No dashboard, no main pane: the first row is shared, nobody is
      // squeezed.
      return a!.role !== "dashboard" && a!.top === b!.top &&
        a!.width < g.width &&
        rest.every((p) => p.height >= Math.floor(g.height / 2) - 2);
    }, 20_000);
  };
  await tiled(24, 80, 3);
  await c.resize(50, 200);
  await tiled(50, 200, 3);
  const add = await w.paw(["add", "d"]);
  assert.equal(add.code, 0, add.stderr);
  await tiled(50, 200, 4);
});

Deno.test("git paw start on a session without the layout hook (an older git-paw's) installs it and fixes the layout", async () => {
  await using w = await makeWorld({ project: "proj" });
  await startDemo(w);
  const win = `=${SESSION}:`;
  // What an older git-paw left: no hook, a one-row dashboard.
  for (
    const a of [
      ["set-hook", "-uw", "-t", win, "window-layout-changed"],
      ["resize-pane", "-t", `${win}.0`, "-y", "1"],
    ]
  ) {
    const r = await w.tmux(a);
    assert.equal(r.code, 0, r.stderr);
  }
  const again = await w.paw(["start"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /Reattaching/);
  // Detached, the window is 480x140: as from a 141-row terminal.
  await dashboardLayout(w, 141, 480, 3);
  // With the hook in place, a reattach leaves the user's arrangement.
  await w.tmux(["resize-pane", "-t", `${win}.0`, "-y", "20"]);
  assert.equal((await w.paw(["start"])).code, 0);
  assert.equal((await geometry(w)).panes[0]!.height, 20);
  // …until the terminal changes.
  await using _c = await attach(w, 40, 120);
  await dashboardLayout(w, 40, 120, 3);
});
