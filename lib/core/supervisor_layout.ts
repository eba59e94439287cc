/**
 * The supervisor session's window (docs/REFERENCE.md, "tmux layout"): the
 * supervisor pane top left, the dashboard top right, the agents below in
 * rows of at most {@link AGENTS_PER_ROW}; at most {@link MAX_AGENTS} agents.
 * Pure: the geometry, the tmux layout string that `select-layout` applies
 * (with tmux's checksum) and the resize pass the window hook runs when the
 * window changes size. `lib/session/layout.ts` asks tmux for the window's
 * size and pane ids and runs the commands.
 * @module
 */
import { MAX_AGENTS } from "./session.ts";

export { MAX_AGENTS };

/** Agents per row of the supervisor layout. */
export const AGENTS_PER_ROW = 5;

/**
 * Share of the window height (percent) of the top row (supervisor and
 * dashboard) and of each agent row, by the number of agent rows (the
 * original's table; 1..5 rows).
 */
const SHARES: Readonly<Record<number, { top: number; row: number }>> = {
  1: { top: 60, row: 40 },
  2: { top: 40, row: 30 },
  3: { top: 28, row: 24 },
  4: { top: 28, row: 18 },
  5: { top: 28, row: 14.4 },
};

/** Why `agents` agents cannot be laid out, or null when they can. */
export function supervisorLayoutProblem(agents: number): string | null {
  if (agents > MAX_AGENTS) {
    return `Config error: ${agents} agents requested; maximum is ${MAX_AGENTS} per session.`;
  }
  if (agents < 1) return "Config error: a supervisor session needs an agent.";
  return null;
}

/**
 * The agent rows: how many panes each holds (rows of at most 5, filled in
 * order; the last row may be shorter).
 *
 * @example
 * ```ts
 * import { agentRowSizes } from "./supervisor_layout.ts";
 * agentRowSizes(7); // [5, 2]
 * ```
 */
export function agentRowSizes(agents: number): number[] {
  const rows: number[] = [];
  for (let left = agents; left > 0; left -= AGENTS_PER_ROW) {
    rows.push(Math.min(AGENTS_PER_ROW, left));
  }
  return rows;
}

/** Height shares (percent) of the top row and each agent row. */
export function rowShares(rows: number): { top: number; row: number } {
  return SHARES[Math.min(Math.max(rows, 1), 5)]!;
}

/** One pane of the layout: tmux pane id (`%12`). */
export type GridPanes = {
  supervisor: string;
  /** Absent while the dashboard pane is closed (a paused session). */
  dashboard?: string | null;
  agents: readonly string[];
};

/** One cell of the computed layout. */
export type GridCell = {
  pane: string;
  role: "supervisor" | "dashboard" | "agent";
  x: number;
  y: number;
  width: number;
  height: number;
};

/**
 * Split `total` cells into parts separated by 1-cell borders, by weights:
 * each part but the last its share of `total` (what tmux's `resize-pane
 * -y N%` gives, so the hook's resize pass and the first layout agree), the
 * last what is left.
 */
function split(total: number, weights: readonly number[]): number[] {
  const room = total - (weights.length - 1);
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = weights.map((w) => Math.max(1, Math.floor(total * w / sum)));
  // The last part takes what rounding left over.
  out[out.length - 1] = Math.max(
    1,
    room - out.slice(0, -1).reduce((a, b) => a + b, 0),
  );
  return out;
}

/** Rows of cells: the top row, then the agent rows. */
type Rows = { height: number; y: number; cells: GridCell[] }[];

function rowsOf(width: number, height: number, panes: GridPanes): Rows {
  const sizes = agentRowSizes(panes.agents.length);
  const share = rowShares(sizes.length);
  const heights = split(height, [share.top, ...sizes.map(() => share.row)]);
  const rows: Rows = [];
  let y = 0;
  const top: { pane: string; role: GridCell["role"] }[] = [
    { pane: panes.supervisor, role: "supervisor" },
  ];
  if (panes.dashboard) top.push({ pane: panes.dashboard, role: "dashboard" });
  const lines = [top];
  let next = 0;
  for (const n of sizes) {
    lines.push(
      panes.agents.slice(next, next + n).map((pane) => ({
        pane,
        role: "agent" as const,
      })),
    );
    next += n;
  }
  lines.forEach((line, i) => {
    const h = heights[i]!;
    const widths = split(width, line.map(() => 1));
    let x = 0;
    rows.push({
      height: h,
      y,
      cells: line.map((c, j) => {
        const cell = { ...c, x, y, width: widths[j]!, height: h };
        x += widths[j]! + 1;
        return cell;
      }),
    });
    y += h + 1;
  });
  return rows;
}

/** The cells of the layout for a `width`×`height` window. */
export function supervisorCells(
  width: number,
  height: number,
  panes: GridPanes,
): GridCell[] {
  return rowsOf(width, height, panes).flatMap((r) => r.cells);
}

/**
 * tmux's layout checksum (`layout_checksum` in tmux's layout-custom.c):
 * four hex digits.
 */
export function layoutChecksum(body: string): string {
  let csum = 0;
  for (let i = 0; i < body.length; i++) {
    csum = ((csum >> 1) | ((csum & 1) << 15)) & 0xffff;
    csum = (csum + body.charCodeAt(i)) & 0xffff;
  }
  return csum.toString(16).padStart(4, "0");
}

function paneNumber(id: string): string {
  return id.replace(/^%/, "");
}

/**
 * The layout string for `select-layout` (checksum first). tmux gives the
 * cells to the window's panes in pane order, so the panes must be ordered
 * supervisor, dashboard, agents (see {@link paneOrder}).
 *
 * @example
 * ```ts
 * import { supervisorLayoutString } from "./supervisor_layout.ts";
 * supervisorLayoutString(101, 50, { supervisor: "%1", dashboard: "%0", agents: ["%2"] });
 * // "<checksum>,101x50,0,0[101x30,0,0{50x30,0,0,1,50x30,51,0,0},101x19,0,31,2]"
 * ```
 */
export function supervisorLayoutString(
  width: number,
  height: number,
  panes: GridPanes,
): string {
  const rows = rowsOf(width, height, panes);
  const leaf = (c: GridCell) =>
    `${c.width}x${c.height},${c.x},${c.y},${paneNumber(c.pane)}`;
  const row = (r: Rows[number]) =>
    r.cells.length === 1
      ? leaf(r.cells[0]!)
      : `${width}x${r.height},0,${r.y}{${r.cells.map(leaf).join(",")}}`;
  const body = rows.length === 1
    ? row(rows[0]!)
    : `${width}x${height},0,0[${rows.map(row).join(",")}]`;
  return `${layoutChecksum(body)},${body}`;
}

/**
 * The smallest window the layout fits in: each pane at least 2 rows (one
 * for the border status line) and 10 columns.
 */
export function supervisorLayoutFits(
  width: number,
  height: number,
  panes: GridPanes,
): boolean {
  return supervisorCells(width, height, panes).every((c) =>
    c.width >= 10 && c.height >= 2
  );
}

/**
 * The pane order the layout needs (supervisor, dashboard, agents in their
 * current order) given the window's panes in pane order.
 */
export function paneOrder(panes: GridPanes): string[] {
  return [
    panes.supervisor,
    ...(panes.dashboard ? [panes.dashboard] : []),
    ...panes.agents,
  ];
}

/**
 * The resize pass (tmux command text, `;`-separated) that restores the row
 * heights and the top row's split after tmux resized the window, which
 * spreads a size change evenly over the rows: the supervisor pane to the
 * top row's share of the height and half the width, the first pane of each
 * agent row but the last to its row's share. Percentages are of the window.
 */
export function supervisorResizeText(panes: GridPanes): string {
  const sizes = agentRowSizes(panes.agents.length);
  const share = rowShares(sizes.length);
  const pct = (v: number) => `${Math.round(v)}%`;
  const cmds = [`resize-pane -t ${panes.supervisor} -y ${pct(share.top)}`];
  if (panes.dashboard) {
    cmds.push(`resize-pane -t ${panes.supervisor} -x 50%`);
  }
  let next = 0;
  sizes.forEach((n, i) => {
    if (i < sizes.length - 1) {
      cmds.push(`resize-pane -t ${panes.agents[next]} -y ${pct(share.row)}`);
    }
    next += n;
  });
  return cmds.join(" ; ");
}
