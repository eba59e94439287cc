/**
 * A unified diff (`git diff` output) parsed into files, hunks and numbered
 * lines, for `git paw diff --json` and the web page's review panel. Pure.
 * @module
 */

/** One line of a hunk; `old`/`new` are its line numbers on each side. */
export type DiffLine = {
  kind: "context" | "add" | "del";
  text: string;
  old: number | null;
  new: number | null;
};

/** One `@@ -a,b +c,d @@` hunk. */
export type DiffHunk = {
  header: string;
  old_start: number;
  old_lines: number;
  new_start: number;
  new_lines: number;
  lines: DiffLine[];
};

/** One file of a diff. */
export type DiffFile = {
  /** Path after the change (before it, for a deletion). */
  path: string;
  /** Path before a rename or copy, else `null`. */
  old_path: string | null;
  status: "added" | "deleted" | "modified" | "renamed" | "copied";
  binary: boolean;
  additions: number;
  deletions: number;
  hunks: DiffHunk[];
};

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Undo git's C-style quoting of a path (`"a\tb"`), else return it as is. */
function unquote(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"')) return p;
  const body = p.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      bytes.push(...new TextEncoder().encode(c));
      continue;
    }
    const n = body[++i] ?? "";
    if (/[0-7]/.test(n)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else {
      bytes.push(
        ({ n: 10, t: 9, r: 13, b: 8, f: 12, a: 7, v: 11 } as Record<
          string,
          number
        >)[n] ?? n.charCodeAt(0),
      );
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function stripPrefix(p: string): string {
  const u = unquote(p);
  return u.startsWith("a/") || u.startsWith("b/") ? u.slice(2) : u;
}

/**
 * Parse `git diff` output (default prefixes `a/`, `b/`).
 *
 * @example
 * ```ts
 * import { parseUnifiedDiff } from "./diff.ts";
 * const files = parseUnifiedDiff(
 *   "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
 * );
 * // files[0].path === "x", files[0].additions === 1
 * ```
 */
export function parseUnifiedDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let hunk: DiffHunk | null = null;
  let oldNo = 0;
  let newNo = 0;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    if (line.startsWith("diff --git ")) {
      const m = /^diff --git (\S+|"[^"]*") (\S+|"[^"]*")$/.exec(line);
      const path = m ? stripPrefix(m[2]!) : line.slice(11);
      file = {
        path,
        old_path: null,
        status: "modified",
        binary: false,
        additions: 0,
        deletions: 0,
        hunks: [],
      };
      files.push(file);
      hunk = null;
      continue;
    }
    if (!file) continue;
    if (hunk) {
      const c = line[0];
      if (c === "+" || c === "-" || c === " ") {
        if (c === "+") {
          hunk.lines.push({
            kind: "add",
            text: line.slice(1),
            old: null,
            new: newNo++,
          });
          file.additions++;
        } else if (c === "-") {
          hunk.lines.push({
            kind: "del",
            text: line.slice(1),
            old: oldNo++,
            new: null,
          });
          file.deletions++;
        } else {
          hunk.lines.push({
            kind: "context",
            text: line.slice(1),
            old: oldNo++,
            new: newNo++,
          });
        }
        continue;
      }
      if (line.startsWith("\\")) continue; // "\ No newline at end of file"
      hunk = null;
    }
    const h = HUNK.exec(line);
    if (h) {
      hunk = {
        header: line,
        old_start: Number(h[1]),
        old_lines: h[2] === undefined ? 1 : Number(h[2]),
        new_start: Number(h[3]),
        new_lines: h[4] === undefined ? 1 : Number(h[4]),
        lines: [],
      };
      oldNo = hunk.old_start;
      newNo = hunk.new_start;
      file.hunks.push(hunk);
    } else if (line.startsWith("new file mode")) file.status = "added";
    else if (line.startsWith("deleted file mode")) file.status = "deleted";
    else if (line.startsWith("rename from ")) {
      file.status = "renamed";
      file.old_path = unquote(line.slice(12));
    } else if (line.startsWith("rename to ")) {
      file.path = unquote(line.slice(10));
    } else if (line.startsWith("copy from ")) {
      file.status = "copied";
      file.old_path = unquote(line.slice(10));
    } else if (line.startsWith("copy to ")) file.path = unquote(line.slice(8));
    else if (line.startsWith("Binary files ")) file.binary = true;
    else if (line.startsWith("--- ") && file.status === "deleted") {
      file.path = stripPrefix(line.slice(4));
    }
  }
  return files;
}

/** The `--stat`-like summary of parsed files. */
export function diffSummary(
  files: readonly DiffFile[],
): { files: number; additions: number; deletions: number } {
  return {
    files: files.length,
    additions: files.reduce((n, f) => n + f.additions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
  };
}
