/**
 * The supervisor layout's geometry, for every agent count a session may
 * have (1..25) and beyond the cap.
 */
import assert from "node:assert/strict";
import {
  agentRowSizes,
  AGENTS_PER_ROW,
  layoutChecksum,
  MAX_AGENTS,
  paneOrder,
  rowShares,
  supervisorCells,
  supervisorLayoutFits,
  supervisorLayoutProblem,
  supervisorLayoutString,
  supervisorResizeText,
} from "../../lib/core/supervisor_layout.ts";

function panes(n: number, dashboard = true) {
  return {
    supervisor: "%1",
    dashboard: dashboard ? "%0" : null,
    agents: Array.from({ length: n }, (_, i) => `%${i + 2}`),
  };
}

Deno.test("agentRowSizes() fills rows of at most 5, in order, for 1..25 agents", () => {
  for (let n = 1; n <= MAX_AGENTS; n++) {
    const rows = agentRowSizes(n);
    assert.equal(rows.reduce((a, b) => a + b, 0), n, `n=${n}`);
    assert.equal(rows.length, Math.ceil(n / AGENTS_PER_ROW), `n=${n}`);
    rows.slice(0, -1).forEach((r) => assert.equal(r, 5, `n=${n}`));
    assert.ok(rows.at(-1)! >= 1 && rows.at(-1)! <= 5, `n=${n}`);
  }
  assert.deepEqual(agentRowSizes(7), [5, 2]);
  assert.deepEqual(agentRowSizes(25), [5, 5, 5, 5, 5]);
});

Deno.test("supervisorLayoutProblem() refuses more than 25 agents and none", () => {
  for (let n = 1; n <= MAX_AGENTS; n++) {
    assert.equal(supervisorLayoutProblem(n), null);
  }
  assert.equal(
    supervisorLayoutProblem(26),
    "Config error: 26 agents requested; maximum is 25 per session.",
  );
  assert.match(supervisorLayoutProblem(0)!, /needs an agent/);
});

Deno.test("rowShares() follows the original's table", () => {
  assert.deepEqual(rowShares(1), { top: 60, row: 40 });
  assert.deepEqual(rowShares(2), { top: 40, row: 30 });
  assert.deepEqual(rowShares(3), { top: 28, row: 24 });
  assert.deepEqual(rowShares(4), { top: 28, row: 18 });
  assert.deepEqual(rowShares(5), { top: 28, row: 14.4 });
});

/** Every cell inside the window, no two overlapping, borders between. */
function checkTiling(w: number, h: number, n: number, dashboard: boolean) {
  const cells = supervisorCells(w, h, panes(n, dashboard));
  assert.equal(cells.length, n + (dashboard ? 2 : 1));
  assert.equal(cells[0]!.role, "supervisor");
  assert.deepEqual([cells[0]!.x, cells[0]!.y], [0, 0]);
  if (dashboard) {
    assert.equal(cells[1]!.role, "dashboard");
    assert.equal(cells[1]!.y, 0);
    assert.equal(cells[1]!.x, cells[0]!.width + 1);
  }
  for (const c of cells) {
    assert.ok(c.x >= 0 && c.y >= 0 && c.width >= 1 && c.height >= 1);
    assert.ok(c.x + c.width <= w, `n=${n} ${JSON.stringify(c)}`);
    assert.ok(c.y + c.height <= h, `n=${n} ${JSON.stringify(c)}`);
  }
  // Each row spans the full width; the rows stack to the full height.
  const rows = new Map<number, typeof cells>();
  for (const c of cells) rows.set(c.y, [...rows.get(c.y) ?? [], c]);
  let y = 0;
  for (const [top, row] of [...rows].sort((a, b) => a[0] - b[0])) {
    assert.equal(top, y);
    const width = row.reduce((a, c) => a + c.width, 0) + row.length - 1;
    assert.equal(width, w, `n=${n} row at ${top}`);
    assert.ok(row.length <= AGENTS_PER_ROW);
    assert.ok(new Set(row.map((c) => c.height)).size === 1);
    y += row[0]!.height + 1;
  }
  assert.equal(y - 1, h, `n=${n}: rows fill the height`);
  // Agents keep their order, row by row.
  const agents = cells.filter((c) => c.role === "agent").map((c) => c.pane);
  assert.deepEqual(agents, panes(n).agents);
}

Deno.test("supervisorCells() tiles the window for 1..25 agents", () => {
  for (let n = 1; n <= MAX_AGENTS; n++) {
    checkTiling(480, 140, n, true);
    checkTiling(203, 55, n, true);
    checkTiling(480, 140, n, false);
  }
});

Deno.test("supervisorCells() gives the top row its share of the height", () => {
  // 1 row: 60/40 of the window, the border taken from the last row.
  const one = supervisorCells(480, 140, panes(3));
  assert.equal(one[0]!.height, Math.floor(140 * 60 / 100));
  assert.equal(one[2]!.height, 140 - 1 - one[0]!.height);
  // 5 rows: 28% on top, 14.4% per row.
  const five = supervisorCells(480, 140, panes(25));
  assert.equal(five[0]!.height, Math.floor(140 * 28 / 100));
  assert.equal(five[2]!.height, Math.floor(140 * 14.4 / 100));
});

Deno.test("layoutChecksum() matches tmux's for layouts tmux printed", () => {
  // Printed by tmux 3.3a (`#{window_layout}`).
  assert.equal(layoutChecksum("80x24,0,0,0"), "b25d");
  assert.equal(
    layoutChecksum("80x24,0,0{40x24,0,0,0,39x24,41,0,1}"),
    "8205",
  );
});

Deno.test("supervisorLayoutString() nests the rows and names every pane once", () => {
  for (let n = 1; n <= MAX_AGENTS; n++) {
    const s = supervisorLayoutString(480, 140, panes(n));
    const [csum, ...rest] = s.split(",");
    assert.equal(csum, layoutChecksum(rest.join(",")));
    assert.ok(rest.join(",").startsWith("480x140,0,0["), s);
    const leaves = [...s.matchAll(/\d+x\d+,\d+,\d+,(\d+)(?=[,}\]])/g)].map((
      m,
    ) => Number(m[1]));
    assert.deepEqual(
      leaves.sort((a, b) => a - b),
      Array.from({ length: n + 2 }, (_, i) => i),
    );
  }
  // One agent row of one pane is a leaf, not a one-child container.
  assert.match(
    supervisorLayoutString(101, 50, panes(1)),
    /^[0-9a-f]{4},101x50,0,0\[101x30,0,0\{50x30,0,0,1,50x30,51,0,0\},101x19,0,31,2\]$/,
  );
});

Deno.test("supervisorLayoutFits() says no for a window too small", () => {
  assert.equal(supervisorLayoutFits(480, 140, panes(25)), true);
  assert.equal(supervisorLayoutFits(30, 10, panes(25)), false);
});

Deno.test("paneOrder() is supervisor, dashboard, agents", () => {
  assert.deepEqual(paneOrder(panes(2)), ["%1", "%0", "%2", "%3"]);
  assert.deepEqual(paneOrder(panes(1, false)), ["%1", "%2"]);
});

Deno.test("supervisorResizeText() resizes the top row and every row but the last", () => {
  assert.equal(
    supervisorResizeText(panes(3)),
    "resize-pane -t %1 -y 60% ; resize-pane -t %1 -x 50%",
  );
  assert.equal(
    supervisorResizeText(panes(11)),
    "resize-pane -t %1 -y 28% ; resize-pane -t %1 -x 50% ; resize-pane -t %2 -y 24% ; resize-pane -t %7 -y 24%",
  );
  assert.equal(
    supervisorResizeText(panes(2, false)),
    "resize-pane -t %1 -y 60%",
  );
});
