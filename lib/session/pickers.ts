/**
 * Interactive pickers for `start` (only when stdin is a terminal): a branch
 * multi-select with type-to-filter (and "new branch" entries), the mode
 * select, and one CLI select per branch or for all. The built-in `demo` CLI
 * is listed last; and the spec checklist of bare `--specs`. Ctrl-C cancels
 * (exit 2), as does an empty spec checklist.
 * @module
 */
import type { Config } from "../core/config.ts";
import type { SpecEntry } from "../core/specs.ts";
import { CancelledError } from "../core/errors.ts";
import { cliLabel, detectClis } from "./clis.ts";
import { eprintln } from "../output.ts";

/**
 * The prompt library, loaded when a picker runs: `start` with its branches
 * and CLI given never asks, and loading it costs ~75 ms before the first
 * worktree is made.
 */
const prompts = () => import("@inquirer/prompts");

const DONE = "\u0000done";
const NEW = "\u0000new:";

/**
 * Pick branches: type to filter, Enter toggles the highlighted branch, pick
 * "Done" to finish ("Done" with nothing picked says so and stays). A typed
 * name that matches no branch can be added as a new branch (created from
 * HEAD). After a toggle the filter stays as typed and the cursor on the
 * branch just toggled; the toggles leave no lines behind, one summary line
 * says what was picked. Ctrl-C rejects (the prompt library's exit error).
 */
export async function pickBranches(all: string[]): Promise<string[]> {
  const chosen: string[] = [];
  let term = "";
  let at: string | undefined;
  let hint = "";
  const { search } = await prompts();
  for (;;) {
    const answer = await search<string>({
      message:
        `Branches (type to filter, Enter toggles; ${chosen.length} selected)${hint}`,
      pageSize: 15,
      ...(term ? { initialValue: term } : {}),
      ...(at !== undefined ? { default: at } : {}),
      source: (typed) => {
        const t = (typed ?? "").trim();
        term = typed ?? "";
        const lower = t.toLowerCase();
        const rows: Array<{ name: string; value: string }> = [{
          name: chosen.length
            ? `✔ Done — start with ${chosen.join(", ")}`
            : "✔ Done",
          value: DONE,
        }];
        for (const b of all) {
          if (lower && !b.toLowerCase().includes(lower)) continue;
          rows.push({
            name: `${chosen.includes(b) ? "[x]" : "[ ]"} ${b}`,
            value: b,
          });
        }
        for (const b of chosen) {
          if (!all.includes(b) && (!lower || b.toLowerCase().includes(lower))) {
            rows.push({ name: `[x] ${b} (new)`, value: b });
          }
        }
        if (t && !all.includes(t) && !chosen.includes(t)) {
          rows.push({ name: `+ new branch '${t}'`, value: NEW + t });
        }
        return rows;
      },
    }, { clearPromptOnDone: true });
    hint = "";
    if (answer === DONE && chosen.length > 0) break;
    if (answer === DONE) {
      hint = " — pick a branch first; Ctrl-C cancels";
      at = DONE;
      continue;
    }
    const b = answer.startsWith(NEW) ? answer.slice(NEW.length) : answer;
    const i = chosen.indexOf(b);
    if (i >= 0) chosen.splice(i, 1);
    else chosen.push(b);
    at = b;
  }
  eprintln(`Branches: ${chosen.join(", ")}`);
  return chosen;
}

/** Pick the CLI for each branch (same for all, or one per branch). */
export async function pickClis(
  branches: string[],
  config: Config,
): Promise<string[]> {
  const clis = detectClis(config, {
    onWarning: (m) => eprintln(`warning: ${m}`),
  });
  const choices = clis.map((c) => ({ name: cliLabel(c), value: c.name }));
  const def =
    config.default_cli && clis.some((c) => c.name === config.default_cli)
      ? config.default_cli
      : undefined;
  const { select } = await prompts();
  const mode = branches.length === 1 ? "same" : await select({
    message: "Mode",
    choices: [
      { name: "Same CLI for all branches", value: "same" },
      { name: "Different CLI per branch", value: "each" },
    ],
  });
  if (mode === "same") {
    const c = await select({ message: "CLI", choices, default: def });
    return branches.map(() => c);
  }
  const out: string[] = [];
  for (const b of branches) {
    out.push(await select({ message: `CLI for ${b}`, choices, default: def }));
  }
  return out;
}

/**
 * Pick pending specs (bare `start --specs`): a checklist of spec ids with
 * their branch and CLI.
 * @throws {CancelledError} when nothing is selected.
 */
export async function pickSpecs(entries: SpecEntry[]): Promise<SpecEntry[]> {
  const { checkbox } = await prompts();
  const picked = await checkbox({
    message: "Specs to launch (Space toggles, Enter starts)",
    pageSize: 15,
    choices: entries.map((e) => ({
      name: `${e.id} → ${e.branch}${e.cli ? ` (${e.cli})` : ""}`,
      value: e,
    })),
  });
  if (picked.length === 0) throw new CancelledError();
  return picked;
}
