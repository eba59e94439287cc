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
 * @module
 */

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
