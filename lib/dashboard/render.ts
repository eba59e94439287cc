/**
 * Draws the dashboard view model into exactly `height` lines of at most
 * `width` columns (docs/REFERENCE.md, "Dashboard"). Pure: the
 * output is plain strings with SGR colour codes only when `color` is on. All
 * agent text reaching here is already sanitised by the view model; the
 * renderer sanitises the few strings it formats itself again anyway.
 * @module
 */
import {
  type AgentRow,
  agentRows,
  attentionRows,
  chipLabels,
  type DashboardState,
  type PanelEntry,
  selectedEntry,
  selectedIndex,
  statusLine,
  visibleEntries,
} from "../core/dashboard_model.ts";
import { MESSAGE_TYPES } from "../core/messages.ts";
import { shortType } from "../core/dashboard_summary.ts";
import {
  displayWidth,
  fit,
  oneLine,
  sanitize,
  truncate,
} from "../core/dashboard_text.ts";

/** Terminal geometry and capabilities for one frame. */
export type RenderOptions = {
  width: number;
  height: number;
  /** Unix seconds, for ages. */
  now: number;
  /** Emit SGR colour/attribute codes (false under NO_COLOR). */
  color: boolean;
};

const SGR = {
  bold: "1",
  dim: "2",
  reverse: "7",
  red: "31",
  green: "32",
  yellow: "33",
  blue: "34",
  magenta: "35",
  cyan: "36",
} as const;
type Style = keyof typeof SGR;

class Line {
  #parts: string[] = [];
  #width = 0;
  constructor(readonly max: number, readonly color: boolean) {}
  /** Append text (truncated to the room left), optionally styled. */
  add(text: string, ...styles: Style[]): this {
    const room = this.max - this.#width;
    if (room <= 0 || text === "") return this;
    const t = truncate(text, room);
    this.#width += displayWidth(t);
    if (this.color && styles.length) {
      this.#parts.push(
        `\x1b[${styles.map((s) => SGR[s]).join(";")}m${t}\x1b[0m`,
      );
    } else this.#parts.push(t);
    return this;
  }
  /** Append a field padded/truncated to exactly `w` columns. */
  cell(text: string, w: number, ...styles: Style[]): this {
    return this.add(fit(text, Math.min(w, this.max - this.#width)), ...styles);
  }
  get width(): number {
    return this.#width;
  }
  toString(): string {
    return this.#parts.join("");
  }
}

const TYPE_STYLE: Record<string, Style> = {
  "agent.status": "blue",
  "agent.artifact": "magenta",
  "agent.blocked": "yellow",
  "agent.verified": "green",
  "agent.feedback": "red",
  "agent.question": "yellow",
  "agent.intent": "cyan",
  "supervisor.verify-now": "green",
  "agent.advanced-main": "magenta",
  "agent.learning": "cyan",
  "approval.request": "yellow",
  "approval.decision": "green",
};

type Column = { key: keyof ColumnsOut; title: string; w: number };
type ColumnsOut = {
  agent: number;
  cli: number;
  status: number;
  age: number;
  summary: number;
};

/** Column widths for the agent table at `width` (0 = column dropped). */
export function tableColumns(width: number, longestId: number): ColumnsOut {
  const marker = 2;
  const gap = 2;
  const agentPref = Math.min(28, Math.max(15, longestId));
  const candidates: Array<[number, number, number, number, number]> = [
    // agent, cli, status, age, min summary
    [agentPref, 10, 15, 11, 20],
    [Math.min(agentPref, 15), 10, 15, 11, 20],
    [Math.min(agentPref, 15), 0, 15, 11, 20],
    [12, 0, 14, 11, 14],
    [12, 0, 14, 0, 10],
    [10, 0, 12, 0, 0],
  ];
  for (const [agent, cli, status, age, minSummary] of candidates) {
    const used = marker + agent + status + gap * 2 +
      (cli ? cli + gap : 0) + (age ? age + gap : 0);
    const summary = width - used;
    if (minSummary > 0 && summary >= minSummary) {
      return { agent, cli, status, age, summary };
    }
    if (minSummary === 0) {
      const rest = Math.max(0, width - marker - gap - status);
      return {
        agent: Math.max(1, Math.min(agent + Math.max(0, summary), rest)),
        cli: 0,
        status: Math.max(0, Math.min(status, width - marker - gap - 1)),
        age: 0,
        summary: 0,
      };
    }
  }
  throw new Error("unreachable");
}

const HELP =
  "q quit · l log · ↑/k ↓/j select · Enter details · Esc close · 1-9,0 filter · a all";

/**
 * Render one frame: exactly `height` strings, each at most `width` columns
 * wide (the caller clears to end of line).
 */
export function renderFrame(
  state: DashboardState,
  opts: RenderOptions,
): string[] {
  const width = Math.max(1, Math.floor(opts.width));
  const height = Math.max(1, Math.floor(opts.height));
  const { color, now } = opts;
  const L = () => new Line(width, color);
  const lines: Array<Line | string> = [];

  // Title.
  const title = L().add("git-paw dashboard — ", "bold").add(
    sanitize(state.session),
    "bold",
  );
  const url = `  broker ${sanitize(state.url)}`;
  if (title.width + displayWidth(url) <= width) {
    title.add(" ".repeat(width - title.width - displayWidth(url))).add(
      url,
      "dim",
    );
  }
  lines.push(title);
  if (state.notice) {
    lines.push(L().add(`⚠ ${oneLine(state.notice, 200)}`, "red", "bold"));
  }

  if (state.integration) {
    const bad = state.integration.includes("✗");
    lines.push(L().add(oneLine(state.integration, 200), bad ? "red" : "dim"));
  }

  // Footer and status line are always kept.
  const footer = L().add(HELP, "dim");
  const status = L().add(statusLine(state));

  // Attention section.
  const attention: Line[] = [];
  if (state.attention.length) {
    attention.push(
      L().add(`⚠ Attention (${state.attention.length})`, "yellow", "bold"),
    );
    const items = attentionRows(state, now);
    const idW = Math.min(
      24,
      items.reduce(
        (m, a) => Math.max(m, displayWidth(a.id)),
        0,
      ),
    );
    for (const a of items) {
      attention.push(
        L().add("! ", "yellow", "bold")
          .cell(a.id, idW, "bold")
          .add("  ").cell(a.why, 8, "yellow")
          .add("  ").cell(a.age, 9, "dim")
          .add("  ").add(a.detail),
      );
    }
  }

  // Agent table.
  const rows = agentRows(state, now);
  // An agent with dev ports shows its PORT after its id.
  const idText = (r: AgentRow) => r.port ? `${r.id} :${r.port}` : r.id;
  const longest = rows.reduce(
    (m, r) => Math.max(m, displayWidth(idText(r))),
    0,
  );
  const cols = tableColumns(width, longest);
  const order: Column[] = [
    { key: "agent", title: "Agent", w: cols.agent },
    { key: "cli", title: "CLI", w: cols.cli },
    { key: "status", title: "Status", w: cols.status },
    { key: "age", title: "Last Update", w: cols.age },
    { key: "summary", title: "Summary", w: cols.summary },
  ].filter((c) => c.w > 0) as Column[];
  const header = L().add("  ");
  order.forEach((c, i) => {
    header.cell(c.title, c.w, "bold");
    if (i < order.length - 1) header.add("  ");
  });
  const table: Line[] = [];
  if (rows.length === 0) {
    table.push(L().add("  No agents connected yet", "dim"));
  }
  rows.forEach((r, idx) => {
    const line = L();
    line.add(r.attention ? "! " : "  ", "yellow", "bold");
    order.forEach((c, i) => {
      switch (c.key) {
        case "agent":
          line.cell(
            idText(r),
            c.w,
            ...(r.attention ? ["yellow", "bold"] as Style[] : []),
          );
          break;
        case "cli":
          line.cell(r.cli, c.w);
          break;
        case "status":
          line.cell(`${r.symbol} ${r.label}`, c.w);
          break;
        case "age":
          line.cell(r.age, c.w, "dim");
          break;
        case "summary":
          line.cell(r.summary, c.w);
          break;
      }
      if (i < order.length - 1) line.add("  ");
    });
    table.push(line);
    if (r.supervisor && idx === 0 && rows.length > 1) {
      table.push(L().add("─".repeat(width), "dim"));
    }
  });

  // Budget the height: title(+notice), [attention], header, table, blank,
  // status, [panel], footer.
  const fixed = lines.length + 1 /*header*/ + 1 /*status*/ + 1 /*footer*/;
  let avail = height - fixed;
  // Priorities when the pane is short: attention (up to 6 lines, leaving at
  // least 2 for the table), then every agent row that fits, then a blank,
  // then the message panel with what is left.
  const attMax = Math.max(0, Math.min(6, avail - Math.min(table.length, 2)));
  let att = attention.slice(0, attMax);
  if (attention.length > attMax && attMax > 0) {
    att = attention.slice(0, attMax - 1);
    att.push(L().add(`  … ${attention.length - attMax + 1} more`, "yellow"));
  }
  avail -= att.length;
  const tableRoom = Math.max(0, avail);
  let tab = table;
  if (table.length > tableRoom) {
    tab = table.slice(0, Math.max(0, tableRoom - 1));
    if (tableRoom > 0) {
      tab.push(
        L().add(`  … ${table.length - tab.length} more rows`, "dim"),
      );
    }
  }
  avail -= tab.length;
  lines.push(...att, header, ...tab);
  if (avail > 0) {
    lines.push(L());
    avail--;
  }
  lines.push(status);

  // Broker message panel fills what is left.
  if (state.logVisible && avail > 0) {
    lines.push(...renderPanel(state, width, avail, color));
  }
  const out = lines.slice(0, height - 1).map(String);
  while (out.length < height - 1) out.push("");
  out.push(String(footer));
  if (state.overlay) return overlay(state, out, width, height, color);
  return out;
}

function renderPanel(
  state: DashboardState,
  width: number,
  room: number,
  color: boolean,
): Array<Line | string> {
  const L = () => new Line(width, color);
  const lines: Array<Line | string> = [];
  const chips = L();
  chipLabels().forEach((label, i) => {
    const active = i === 0
      ? state.chips.size === 0
      : state.chips.has(MESSAGE_TYPES[i - 1]!);
    const key = i === 0 ? "a" : String(i % 10);
    const text = active ? `[${key}:${label}]` : ` ${key}:${label} `;
    chips.add(
      text,
      ...(active ? ["reverse", "bold"] as Style[] : ["dim"] as Style[]),
    );
    chips.add(" ");
  });
  lines.push(chips);
  const visible = visibleEntries(state);
  const rows = room - 1;
  if (rows <= 0) return lines;
  if (visible.length === 0) {
    lines.push(
      L().add(
        state.panel.length
          ? "  (no messages match the filter — press a for all)"
          : "  (no broker messages yet)",
        "dim",
      ),
    );
    return lines;
  }
  const sel = selectedIndex(state, visible);
  const start = Math.max(0, Math.min(sel - rows + 1, visible.length - rows));
  const top = Math.max(0, Math.min(start, sel));
  for (let i = top; i < Math.min(visible.length, top + rows); i++) {
    lines.push(cachedPanelRow(visible[i]!, i === sel, width, color));
  }
  return lines;
}

const rowCache = new WeakMap<PanelEntry, { key: string; line: string }>();

/** A panel row only changes with its width, selection and colour: memoise. */
function cachedPanelRow(
  p: PanelEntry,
  selected: boolean,
  width: number,
  color: boolean,
): string {
  const key = `${width}|${selected}|${color}`;
  const hit = rowCache.get(p);
  if (hit && hit.key === key) return hit.line;
  const line = String(panelRow(p, selected, width, color));
  rowCache.set(p, { key, line });
  return line;
}

function panelRow(
  p: PanelEntry,
  selected: boolean,
  width: number,
  color: boolean,
): Line {
  const line = new Line(width, color);
  const sel: Style[] = selected ? ["reverse"] : [];
  line.add(selected ? "› " : "  ", ...sel);
  line.add(
    p.time,
    ...(selected ? sel : ["dim"] as Style[]),
  );
  line.add(" · ", ...sel);
  line.add(
    shortType(p.type),
    ...(selected ? sel : [TYPE_STYLE[p.type] ?? "dim"]),
  );
  line.add(" · ", ...sel);
  line.add(p.id, ...(selected ? sel : ["bold"] as Style[]));
  line.add(" · ", ...sel);
  line.add(p.text, ...sel);
  if (selected && line.width < width) {
    line.add(" ".repeat(width - line.width), ...sel);
  }
  return line;
}

const jsonCache = new WeakMap<object, string[]>();
const OVERLAY_MAX_LINES = 2000;

/** Pretty JSON of an entry as sanitised lines (bounded, cached). */
function entryJsonLines(p: PanelEntry): string[] {
  const hit = jsonCache.get(p.entry);
  if (hit) return hit;
  let text: string;
  try {
    text = JSON.stringify(p.entry, null, 2) ?? "null";
  } catch {
    text = "(cannot show this message as JSON)";
  }
  const raw = text.split("\n");
  const lines = raw.slice(0, OVERLAY_MAX_LINES).map((l) =>
    sanitize(l.length > 4000 ? l.slice(0, 4000).toWellFormed() + "…" : l)
  );
  if (raw.length > OVERLAY_MAX_LINES) {
    lines.push(`… ${raw.length - OVERLAY_MAX_LINES} more lines`);
  }
  jsonCache.set(p.entry, lines);
  return lines;
}

function overlay(
  state: DashboardState,
  base: string[],
  width: number,
  height: number,
  color: boolean,
): string[] {
  const p = selectedEntry(state);
  if (!p || height < 5 || width < 10) return base;
  const out = base.slice();
  const top = 1;
  const bottom = height - 2; // keep the footer
  const inner = width - 4;
  const L = () => new Line(width, color);
  const title = ` seq ${p.entry.seq} · ${
    shortType(p.type)
  } · ${p.id} — Esc closes · PgUp/PgDn scroll `;
  const head = L().add("┌", "cyan").add(
    truncate(title, width - 2),
    "bold",
  );
  head.add("─".repeat(Math.max(0, width - 1 - head.width)), "cyan").add(
    "┐",
    "cyan",
  );
  out[top] = String(head);
  const json = entryJsonLines(p);
  const room = bottom - top - 1;
  const scroll = Math.max(
    0,
    Math.min(state.overlayScroll, json.length - room + 1),
  );
  for (let i = 0; i < room; i++) {
    let text = json[scroll + i] ?? "";
    if (i === 0 && scroll > 0) text = `… ${scroll} lines above (PgUp)`;
    if (i === room - 1 && json.length - scroll > room) {
      text = `… ${json.length - scroll - room + 1} more lines (PgDn)`;
    }
    out[top + 1 + i] = String(
      L().add("│ ", "cyan").cell(text, inner).add(" │", "cyan"),
    );
  }
  out[bottom] = String(
    L().add("└" + "─".repeat(Math.max(0, width - 2)) + "┘", "cyan"),
  );
  return out;
}
