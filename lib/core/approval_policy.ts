/**
 * The approval policy (`[approvals]` in config): which tool calls of an
 * agent's CLI run without asking, which are refused without asking, and
 * which wait for a person. Pure: paths arrive already resolved (symlinks and
 * `..`) by the adapter (`resolvePolicyPaths` in lib/adapters/fs.ts).
 *
 * A shell command is split the way a POSIX shell would split it: at `&&`,
 * `||`, `;`, `|`, `&` and newlines outside quotes, into the commands of
 * `$(…)`, backquotes, `<(…)`, `>(…)` and `( … )` subshells, with
 * redirections taken out (an output redirection is a write). Each simple
 * command is cut into words by `shlex`. The command is allowed only when
 * every part is allowed; any part matching a deny pattern refuses it (deny
 * wins). What cannot be analysed (`if`, `for`, functions, unbalanced
 * quotes) asks.
 *
 * A pattern is a command in words: `*` as a word stands for any number of
 * words (`git add *` matches `git add`, `git add a b`), `*` and `?` inside a
 * word match characters of that word. Claude's `git add:*` form means the
 * same as `git add *`.
 * @module
 */
import { split as shSplit } from "shlex";
import { type LooseObject, looseObject, looseText } from "./loose_json.ts";

/** The policy part of `[approvals]` (config keys of the same names). */
export type ApprovalPolicy = {
  allow: readonly string[];
  deny: readonly string[];
  /** `allow`: writes inside the agent's own worktree run unasked. */
  worktree_writes: "allow" | "ask";
};

/** What a tool call is, for the policy. */
export type ApprovalSubject =
  /** A shell command (Claude `Bash`, Gemini `run_shell_command`, Codex). */
  | { kind: "command"; command: string }
  /** A file write (Claude Edit/Write/MultiEdit, Gemini write_file/replace, Codex apply_patch). */
  | { kind: "write"; paths: string[] }
  /** A tool that only reads: the CLI's own rules stand. */
  | { kind: "read" }
  /** git-paw's own MCP tools. */
  | { kind: "own" }
  /** Anything else: asks. */
  | { kind: "other" };

/** The verdict of {@link decideApproval}. */
export type ApprovalVerdict =
  | { decision: "allow"; rule: string }
  | { decision: "deny"; rule: string }
  /** A person decides; `why` says what the policy could not allow. */
  | { decision: "ask"; why: string }
  /** No decision: the CLI's own rules and prompt apply. */
  | { decision: "pass" };

/** What the verdict needs besides the subject: resolved paths (from the adapter), who asks. */
export type ResolvedPaths = {
  /** The agent's worktree, resolved (no trailing `/`). */
  worktree: string;
  /** Each raw path of {@link policyPaths}, resolved to an absolute path. */
  paths: Readonly<Record<string, string>>;
  /**
   * The session broker's URL: `curl` recipes to it are git-paw's own
   * commands (AGENTS.md shows them), unless they write files or decide
   * approvals.
   */
  brokerUrl?: string | null;
  /**
   * The agent asking. Only the supervisor may run `git paw approve|deny`
   * (or curl `/approvals`) unasked: an agent never approves itself.
   */
  agent?: string;
};

/** One simple command of a shell command line. */
export type SimpleCommand = { words: string[] };

/** What {@link analyzeShell} finds in a command line. */
export type ShellAnalysis =
  | {
    ok: true;
    commands: SimpleCommand[];
    /** Output redirection targets (raw words, unquoted). */
    writes: string[];
    /** True when `$(…)`, backquotes or process substitution occur. */
    substitution: boolean;
  }
  | { ok: false; why: string };

/** The word a command substitution leaves in its outer command. */
const SUB_WORD = "$(…)";

const KEYWORDS: ReadonlySet<string> = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "for",
  "while",
  "until",
  "do",
  "done",
  "case",
  "esac",
  "function",
  "select",
  "coproc",
  "time",
  "[[",
  "]]",
]);

/** Output targets that write nothing anyone keeps. */
const HARMLESS_TARGETS: ReadonlySet<string> = new Set([
  "/dev/null",
  "/dev/stdout",
  "/dev/stderr",
  "/dev/tty",
]);

class ShellError extends Error {}

/** The closing backquote after index `i`. */
function matchBackquote(src: string, i: number): number {
  for (let j = i; j < src.length; j++) {
    if (src[j] === "\\") j++;
    else if (src[j] === "`") return j;
  }
  throw new ShellError("unbalanced backquote");
}

const WORD_END = /[\s;&|<>()]/;

/** Read one word from `i` (quotes honoured); returns its raw text and end. */
function readWord(src: string, i: number): { raw: string; end: number } {
  let j = i;
  while (j < src.length && (src[j] === " " || src[j] === "\t")) j++;
  const start = j;
  let quote: string | null = null;
  for (; j < src.length; j++) {
    const c = src[j]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      continue;
    }
    if (c === "\\") {
      j++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (WORD_END.test(c)) break;
  }
  if (quote) throw new ShellError("unbalanced quotes");
  return { raw: src.slice(start, j), end: j };
}

function unquoteWord(raw: string): string {
  if (/[`$]/.test(raw.replace(/'[^']*'/g, ""))) {
    throw new ShellError(`an expansion in a redirection target: ${raw}`);
  }
  try {
    return shSplit(raw)[0] ?? "";
  } catch {
    throw new ShellError("unbalanced quotes");
  }
}

type Scan = {
  segments: string[];
  nested: Scan[];
  writes: string[];
  substitution: boolean;
  /** Index just after the closing `)` (a nested scan), else the length. */
  end: number;
};

/**
 * Split a command line from `from` at its top level; `nested` scans stop at
 * their closing `)`.
 */
function scan(src: string, from = 0, nested = false, depth = 0): Scan {
  if (depth > 8) throw new ShellError("substitutions nested too deep");
  const out: Scan = {
    segments: [],
    nested: [],
    writes: [],
    substitution: false,
    end: src.length,
  };
  const sub = (at: number, isSubstitution: boolean) => {
    const inner = scan(src, at, true, depth + 1);
    out.nested.push(inner);
    if (isSubstitution) out.substitution = true;
    return inner.end;
  };
  let cur = "";
  let quote: '"' | "'" | null = null;
  const heredocs: Array<{ delim: string; quoted: boolean; strip: boolean }> =
    [];
  const endSegment = () => {
    out.segments.push(cur);
    cur = "";
  };
  let i = from;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (quote === "'") {
      cur += c;
      if (c === "'") quote = null;
      i++;
      continue;
    }
    if (c === "\\") {
      cur += c + (next ?? "");
      i += 2;
      continue;
    }
    if (c === "$" && next === "(") {
      i = sub(i + 2, true);
      cur += SUB_WORD;
      continue;
    }
    if (c === "`") {
      const end = matchBackquote(src, i + 1);
      out.nested.push(scan(src.slice(i + 1, end), 0, false, depth + 1));
      out.substitution = true;
      cur += SUB_WORD;
      i = end + 1;
      continue;
    }
    if (quote === '"') {
      cur += c;
      if (c === '"') quote = null;
      i++;
      continue;
    }
    // Outside quotes.
    if (c === "'" || c === '"') {
      quote = c;
      cur += c;
      i++;
      continue;
    }
    if ((c === "<" || c === ">") && next === "(") {
      i = sub(i + 2, true);
      cur += SUB_WORD;
      continue;
    }
    if (c === "(") {
      if (cur.trim() !== "") {
        throw new ShellError("a function or `(` mid-command");
      }
      i = sub(i + 1, false);
      continue;
    }
    if (c === ")") {
      if (!nested) throw new ShellError("unbalanced parentheses");
      if (quote) throw new ShellError("unbalanced quotes");
      if (heredocs.length) throw new ShellError("unterminated here-document");
      endSegment();
      out.end = i + 1;
      return out;
    }
    if (c === "#" && (cur === "" || /\s$/.test(cur))) {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "\n") {
      endSegment();
      i++;
      // Here-document bodies follow the line that opened them.
      for (const h of heredocs.splice(0)) {
        for (;;) {
          if (i >= src.length) {
            throw new ShellError("unterminated here-document");
          }
          const nl = src.indexOf("\n", i);
          const line = src.slice(i, nl < 0 ? src.length : nl);
          i = nl < 0 ? src.length : nl + 1;
          const text = h.strip ? line.replace(/^\t+/, "") : line;
          if (text === h.delim) break;
          if (!h.quoted && /\$\(|`/.test(line)) {
            throw new ShellError("a substitution in a here-document");
          }
        }
      }
      continue;
    }
    if (c === ";" || c === "|" || (c === "&" && next !== ">")) {
      endSegment();
      i += (c === "&" && next === "&") ||
          (c === "|" && (next === "|" || next === "&")) ||
          (c === ";" && next === ";")
        ? 2
        : 1;
      continue;
    }
    if (c === "<" || c === ">" || c === "&") {
      // A redirection: `[n]>`, `>>`, `>|`, `&>`, `&>>`, `>&n`, `<`, `<<`, `<<<`.
      const fd = /(^|\s)(\d+)$/.exec(cur);
      if (fd) cur = cur.slice(0, cur.length - fd[2]!.length);
      let op = c;
      let j = i + 1;
      while (j < src.length && /[<>&|-]/.test(src[j]!) && op.length < 3) {
        if (src[j] === "-" && op !== "<<") break;
        op += src[j];
        j++;
      }
      if (op === "<<" || op === "<<-") {
        const w = readWord(src, j);
        const quoted = /['"\\]/.test(w.raw);
        heredocs.push({
          delim: unquoteWord(w.raw),
          quoted,
          strip: op === "<<-",
        });
        cur += " ";
        i = w.end;
        continue;
      }
      const w = readWord(src, j);
      if (w.raw === "") throw new ShellError(`a redirection without a target`);
      i = w.end;
      cur += " ";
      const isOutput = op.includes(">");
      if (op.endsWith("&") && /^(\d+|-)$/.test(w.raw)) continue; // fd dup
      if (op === "<<<") {
        if (/\$\(|`/.test(w.raw)) {
          throw new ShellError("a substitution in a here-string");
        }
        continue;
      }
      if (isOutput) out.writes.push(unquoteWord(w.raw));
      continue;
    }
    cur += c;
    i++;
  }
  if (nested) throw new ShellError("unbalanced parentheses");
  if (quote) throw new ShellError("unbalanced quotes");
  if (heredocs.length) throw new ShellError("unterminated here-document");
  endSegment();
  return out;
}

/**
 * Split a shell command line into its simple commands (nested ones
 * included) and the files it redirects output to.
 *
 * @example
 * ```ts
 * import { analyzeShell } from "./approval_policy.ts";
 * const a = analyzeShell("git add x && curl -s https://x | sh");
 * // a.ok && a.commands.map((c) => c.words[0]) → ["git", "curl", "sh"]
 * ```
 */
export function analyzeShell(command: string): ShellAnalysis {
  let s: Scan;
  try {
    s = scan(command);
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
  const out = { commands: [] as SimpleCommand[], writes: [] as string[] };
  const why = collect(s, out);
  if (why !== null) return { ok: false, why };
  return { ok: true, ...out, substitution: anySubstitution(s) };
}

function anySubstitution(s: Scan): boolean {
  return s.substitution || s.nested.some(anySubstitution);
}

/** Words of each segment of a scan tree; a reason when one cannot be read. */
function collect(
  s: Scan,
  out: { commands: SimpleCommand[]; writes: string[] },
): string | null {
  for (const seg of s.segments) {
    if (seg.trim() === "") continue;
    let words: string[];
    try {
      words = shSplit(seg);
    } catch {
      return "unbalanced quotes";
    }
    while (words[0] === "!" || words[0] === "{") words.shift();
    while (words.at(-1) === "}") words.pop();
    if (words.length === 0) continue;
    if (KEYWORDS.has(words[0]!)) return `shell syntax \`${words[0]}\``;
    out.commands.push({ words });
  }
  out.writes.push(...s.writes);
  for (const n of s.nested) {
    const why = collect(n, out);
    if (why !== null) return why;
  }
  return null;
}

function patternWords(pattern: string): string[] {
  const p = pattern.trim().replace(/:\*$/, " *");
  try {
    return shSplit(p);
  } catch {
    return p.split(/\s+/).filter((w) => w !== "");
  }
}

function globWord(pattern: string, word: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === word;
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "s").test(word);
}

function matchWords(p: string[], w: string[], i = 0, j = 0): boolean {
  if (i === p.length) return j === w.length;
  if (p[i] === "*") {
    for (let k = j; k <= w.length; k++) {
      if (matchWords(p, w, i + 1, k)) return true;
    }
    return false;
  }
  return j < w.length && globWord(p[i]!, w[j]!) &&
    matchWords(p, w, i + 1, j + 1);
}

/**
 * True when the simple command `words` matches `pattern` (see the module
 * doc for the pattern rules).
 */
export function matchesPattern(
  pattern: string,
  words: readonly string[],
): boolean {
  const p = patternWords(pattern);
  return p.length > 0 && matchWords(p, [...words]);
}

/** The supervisor's agent id (lib/core/slug.ts `SUPERVISOR_ID`). */
const SUPERVISOR = "supervisor";

/** curl options that write files, read configs or go elsewhere. */
const CURL_UNSAFE =
  /^(-[a-zA-Z]*[oOTKxFDcE]|--(output|remote-name|upload-file|config|proxy|preproxy|unix-socket|abstract-unix-socket|form|dump-header|cookie-jar|trace|trace-ascii|libcurl|netrc-file|create-dirs|output-dir|url|connect-to|resolve|cert|key)\b)/;

/** git-paw's own helper, and curl to the session's own broker: allowed. */
function isOwnCommand(
  words: readonly string[],
  ctx: ResolvedPaths,
): boolean {
  const boss = ctx.agent === SUPERVISOR;
  if (words[0] === "git" && words[1] === "paw") {
    return boss || (words[2] !== "approve" && words[2] !== "deny");
  }
  const url = ctx.brokerUrl?.replace(/\/+$/, "");
  if (words[0] !== "curl" || !url) return false;
  const urls = words.filter((w) => w.includes("://"));
  return urls.length === 1 && urls[0]!.startsWith(`${url}/`) &&
    (boss || !urls[0]!.startsWith(`${url}/approvals`)) &&
    !words.slice(1).some((w) => CURL_UNSAFE.test(w));
}

/** Paths inside a worktree that are never plain worktree writes. */
const PROTECTED = /^(\.git|\.git-paw|\.claude|\.gemini|\.codex)(\/|$)/;

function inside(worktree: string, path: string): boolean {
  if (path !== worktree && !path.startsWith(`${worktree}/`)) return false;
  return !PROTECTED.test(path.slice(worktree.length + 1));
}

/**
 * The raw paths a subject writes (write tools, a command's output
 * redirections), for the adapter to resolve.
 */
export function policyPaths(subject: ApprovalSubject): string[] {
  if (subject.kind === "write") return [...subject.paths];
  if (subject.kind !== "command") return [];
  const a = analyzeShell(subject.command);
  return a.ok ? a.writes.filter((w) => !HARMLESS_TARGETS.has(w)) : [];
}

/** Why writes to `paths` are not worktree writes, or null when they are. */
function writesProblem(
  paths: readonly string[],
  policy: ApprovalPolicy,
  resolved: ResolvedPaths,
): string | null {
  for (const raw of paths) {
    if (HARMLESS_TARGETS.has(raw)) continue;
    const abs = resolved.paths[raw];
    if (abs === undefined || !inside(resolved.worktree, abs)) {
      return `writes outside the worktree: ${abs ?? raw}`;
    }
    if (policy.worktree_writes !== "allow") {
      return `worktree writes ask ([approvals] worktree_writes = "ask"): ${raw}`;
    }
  }
  return null;
}

/**
 * Decide one tool call by the policy: `deny` when a deny pattern matches any
 * part of a command, `allow` when every part is allowed (or a write stays in
 * the worktree), `pass` for read-only tools, else `ask`.
 *
 * @example
 * ```ts
 * import { decideApproval } from "./approval_policy.ts";
 * const policy = { allow: ["git add *"], deny: [], worktree_writes: "allow" as const };
 * const resolved = { worktree: "/w", paths: {} };
 * decideApproval({ kind: "command", command: "git add x" }, policy, resolved);
 * // { decision: "allow", rule: "policy: allow git add *" }
 * decideApproval({ kind: "command", command: "git add x && curl -s x | sh" }, policy, resolved);
 * // { decision: "ask", why: "not allowed by the policy: curl -s x" }
 * ```
 */
export function decideApproval(
  subject: ApprovalSubject,
  policy: ApprovalPolicy,
  resolved: ResolvedPaths,
): ApprovalVerdict {
  switch (subject.kind) {
    case "read":
      return { decision: "pass" };
    case "own":
      return { decision: "allow", rule: "git-paw's own tool" };
    case "other":
      return { decision: "ask", why: "a tool the policy does not cover" };
    case "write": {
      if (subject.paths.length === 0) {
        return { decision: "ask", why: "a write to an unknown path" };
      }
      const why = writesProblem(subject.paths, policy, resolved);
      return why
        ? { decision: "ask", why }
        : { decision: "allow", rule: "policy: worktree write" };
    }
    case "command":
      break;
  }
  const a = analyzeShell(subject.command);
  if (!a.ok) {
    return { decision: "ask", why: `cannot analyse the command: ${a.why}` };
  }
  for (const c of a.commands) {
    const hit = policy.deny.find((p) => matchesPattern(p, c.words));
    if (hit !== undefined) {
      return { decision: "deny", rule: `policy: deny ${hit}` };
    }
  }
  if (a.commands.length === 0) {
    return { decision: "ask", why: "an empty command" };
  }
  const used: string[] = [];
  for (const c of a.commands) {
    if (isOwnCommand(c.words, resolved)) continue;
    const hit = policy.allow.find((p) => matchesPattern(p, c.words));
    if (hit === undefined) {
      return {
        decision: "ask",
        why: `not allowed by the policy: ${c.words.join(" ")}`,
      };
    }
    if (!used.includes(hit)) used.push(hit);
  }
  const why = writesProblem(
    a.writes.filter((w) => !HARMLESS_TARGETS.has(w)),
    policy,
    resolved,
  );
  if (why) return { decision: "ask", why };
  return {
    decision: "allow",
    rule: used.length
      ? `policy: allow ${used.join(", ")}`
      : "git-paw's own command",
  };
}

type Json = LooseObject;

const SHELL_TOOLS: ReadonlySet<string> = new Set([
  "Bash",
  "run_shell_command",
  "shell",
  "exec_command",
  "local_shell",
]);
const WRITE_TOOLS: ReadonlySet<string> = new Set([
  "Edit",
  "Write",
  "MultiEdit",
  "NotebookEdit",
  "write_file",
  "replace",
]);
const READ_TOOLS: ReadonlySet<string> = new Set([
  // Claude Code
  "Read",
  "Glob",
  "Grep",
  "LS",
  "NotebookRead",
  "TodoWrite",
  "Task",
  "ExitPlanMode",
  // Gemini CLI
  "read_file",
  "read_many_files",
  "list_directory",
  "glob",
  "search_file_content",
  "grep",
  "save_memory",
  "write_todos",
]);

/** The files an `apply_patch` body touches. */
export function patchPaths(patch: string): string[] {
  const out: string[] = [];
  for (
    const m of patch.matchAll(
      /^\*\*\* (?:Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$/gm,
    )
  ) {
    const p = (m[1] ?? m[2])!.trim();
    if (p && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * What a tool call of a CLI is, from its hook payload's `tool_name` and
 * `tool_input` (docs/clis/*.md).
 */
export function approvalSubject(tool: string, input: unknown): ApprovalSubject {
  const i = looseObject(input);
  if (SHELL_TOOLS.has(tool)) {
    const c = i.command;
    const command = Array.isArray(c) ? c.join(" ") : looseText(c);
    if (command === null) return { kind: "other" };
    const patch = /^apply_patch\b/.test(command.trim())
      ? patchPaths(command)
      : [];
    return patch.length
      ? { kind: "write", paths: patch }
      : { kind: "command", command };
  }
  if (tool === "apply_patch") {
    const body = looseText(i.patch) ?? looseText(i.input) ??
      looseText(i.command) ?? "";
    return { kind: "write", paths: patchPaths(body) };
  }
  if (WRITE_TOOLS.has(tool)) {
    const p = looseText(i.file_path) ?? looseText(i.notebook_path) ??
      looseText(i.path) ??
      looseText(i.absolute_path);
    return { kind: "write", paths: p ? [p] : [] };
  }
  if (READ_TOOLS.has(tool)) return { kind: "read" };
  if (/^mcp__git[-_]paw__/.test(tool)) return { kind: "own" };
  return { kind: "other" };
}

/** The one-line `what` of a subject for the queue and the audit. */
export function subjectText(tool: string, input: unknown): string {
  const i = looseObject(input);
  const s = approvalSubject(tool, input);
  if (s.kind === "command") return s.command;
  if (s.kind === "write") return s.paths.join(", ");
  for (const k of ["command", "file_path", "path", "url", "pattern", "query"]) {
    const v = looseText(i[k]);
    if (v) return v;
  }
  return "";
}
