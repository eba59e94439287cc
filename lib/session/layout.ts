/**
 * The session window's layout, kept by tmux itself: the dashboard pane
 * (`@paw_role` `dashboard`) on top with a readable height — a quarter of the
 * window, never under {@link DASHBOARD_MIN_ROWS} rows — and the agent panes
 * sharing the rest (`main-horizontal`); a session without a dashboard is
 * `tiled`. A window hook (`window-layout-changed`, which tmux fires after it
 * really resized the window — a client attached, a terminal resized — and
 * after a pane was split or closed) re-applies the layout whenever the
 * window's size or pane count changed since the layout was last applied,
 * so it holds without git-paw running. A layout the user dragged by hand
 * stays until the next such change; a zoomed window is left alone until it
 * is unzoomed.
 *
 * Only tmux 3.2 features: window hooks (`set-hook -w`), format arithmetic
 * and numeric comparisons (`#{e|<:…}`), the pane loop `#{P:…}`, `{ … }`
 * command blocks, `set-option -F`.
 * A supervisor session's window (a pane whose `@paw_role` is `supervisor`)
 * has its own layout instead (lib/core/supervisor_layout.ts): supervisor
 * top left, dashboard top right, agents in rows of at most 5 below; its hook
 * restores the row heights after a resize.
 * @module
 */
import {
  type GridPanes,
  paneOrder,
  supervisorLayoutFits,
  supervisorLayoutString,
  supervisorResizeText,
} from "../core/supervisor_layout.ts";

/** Rows the dashboard pane always gets (when the window has them). */
export const DASHBOARD_MIN_ROWS = 8;

/**
 * The window's size and pane count: when it differs from `@paw_layout_key`,
 * the layout is re-applied (its own re-application changes neither, so the
 * hook does not loop).
 */
const KEY = "#{window_width}x#{window_height}/#{window_panes}";

/** "1" when a pane of the window is the dashboard. */
const HAS_DASHBOARD = "#{P:#{?#{==:#{@paw_role},dashboard},1,}}";

/**
 * `main-pane-height` in rows: a quarter of the window, at least
 * {@link DASHBOARD_MIN_ROWS}; one more when pane borders carry a status
 * line, which tmux takes from the pane.
 */
const MAIN_HEIGHT = `#{e|+:#{?#{e|<:#{window_height},${
  DASHBOARD_MIN_ROWS * 4
}},${DASHBOARD_MIN_ROWS},#{e|/:#{window_height},4}},#{?#{==:#{pane-border-status},off},0,1}}`;

/**
 * The hook's condition: size or pane count changed, and the window is not
 * zoomed (a zoomed window compares its key with itself).
 */
const STALE =
  `#{!=:#{@paw_layout_key},#{?window_zoomed_flag,#{@paw_layout_key},${KEY}}}`;

/**
 * The `window-layout-changed` hook: tmux command text, run with the
 * session window as its target (hence no `-t`).
 */
const LAYOUT_HOOK = `if-shell -F "${STALE}" { ` +
  `set-option -wF @paw_layout_key "${KEY}" ; ` +
  `if-shell -F "${HAS_DASHBOARD}" { ` +
  `set-option -wF main-pane-height "${MAIN_HEIGHT}" ; ` +
  `select-layout main-horizontal } { select-layout tiled } }`;

/**
 * tmux commands (for `tmuxBatch`) that lay out the window of `target` (a
 * pane id or `=<session>:`) now — `main-horizontal` with `dashboard`, else
 * `tiled` — and install the hook that keeps it so on every later resize,
 * attach, split or closed pane. Idempotent.
 */
export function layoutCmds(
  target: string,
  opts: { dashboard: boolean },
): string[][] {
  const w = (key: string, value: string) => [
    "set-option",
    "-w",
    "-F",
    "-t",
    target,
    key,
    value,
  ];
  return [
    w("main-pane-height", MAIN_HEIGHT),
    [
      "select-layout",
      "-t",
      target,
      opts.dashboard ? "main-horizontal" : "tiled",
    ],
    w("@paw_layout_key", KEY),
    ["set-hook", "-w", "-t", target, "window-layout-changed", LAYOUT_HOOK],
  ];
}

// ---------------------------------------------------------------------------
// Supervisor sessions (lib/core/supervisor_layout.ts)
// ---------------------------------------------------------------------------

/** The `@paw_role` of the supervisor pane. */
export const SUPERVISOR_ROLE = "supervisor";

/** A pane as {@link sessionLayoutCmds} needs it (lib/adapters/tmux.ts `PaneInfo`). */
export type LayoutPane = { id: string; role: string };

/**
 * The window hook of a supervisor window: when its size or pane count
 * changed, the resize pass of `supervisorResizeText` (row heights back to
 * their shares; tmux spreads a size change evenly over the rows).
 */
function supervisorHook(panes: GridPanes): string {
  return `if-shell -F "${STALE}" { ` +
    `set-option -wF @paw_layout_key "${KEY}" ; ` +
    `${supervisorResizeText(panes)} }`;
}

/** The panes of a supervisor window by role, in the order they have. */
function gridPanesOf(panes: readonly LayoutPane[]): GridPanes | null {
  const sup = panes.find((p) => p.role === SUPERVISOR_ROLE);
  if (!sup) return null;
  const dash = panes.find((p) => p.role === "dashboard");
  return {
    supervisor: sup.id,
    dashboard: dash?.id ?? null,
    agents: panes.filter((p) => p !== sup && p !== dash).map((p) => p.id),
  };
}

/**
 * tmux commands that put the panes in the order the supervisor layout
 * needs (supervisor, dashboard, agents): `swap-pane -d` moves only the
 * panes that are out of place.
 */
function orderCmds(
  current: readonly string[],
  wanted: readonly string[],
): string[][] {
  const order = [...current];
  const cmds: string[][] = [];
  wanted.forEach((id, i) => {
    const at = order.indexOf(id);
    if (at < 0 || at === i) return;
    cmds.push(["swap-pane", "-d", "-s", id, "-t", order[i]!]);
    [order[i], order[at]] = [order[at]!, order[i]!];
  });
  return cmds;
}

/**
 * The commands that lay out a window given its panes (in pane order) and
 * its size: a window with a supervisor pane gets the supervisor layout
 * (`select-layout` with the computed layout string, and its hook); any
 * other the main-horizontal / tiled layout of {@link layoutCmds}. A window
 * too small for the supervisor layout is tiled (the hook still resizes).
 */
export function windowLayoutCmds(
  target: string,
  panes: readonly LayoutPane[],
  size: { width: number; height: number },
): string[][] {
  const grid = gridPanesOf(panes);
  if (!grid) {
    return layoutCmds(target, {
      dashboard: panes.some((p) => p.role === "dashboard"),
    });
  }
  const cmds = orderCmds(panes.map((p) => p.id), paneOrder(grid));
  cmds.push([
    "select-layout",
    "-t",
    target,
    supervisorLayoutFits(size.width, size.height, grid)
      ? supervisorLayoutString(size.width, size.height, grid)
      : "tiled",
  ]);
  cmds.push(["set-option", "-w", "-F", "-t", target, "@paw_layout_key", KEY]);
  cmds.push([
    "set-hook",
    "-w",
    "-t",
    target,
    "window-layout-changed",
    supervisorHook(grid),
  ]);
  return cmds;
}
