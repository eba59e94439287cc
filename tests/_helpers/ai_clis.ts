/**
 * Where the pinned real AI CLIs live for the tests: the project-local cache
 * that `tools/install_ai_clis.sh` fills (`$GIT_PAW_AI_CLIS`, default
 * `<checkout>/.cache/ai-clis`). Never the machine's PATH: a test must not
 * depend on what is installed. A missing cache is installed on first use.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The CLIs the end-to-end tests drive. */
export type AiCli = "claude" | "codex" | "gemini";

const checkout = fileURLToPath(new URL("../../", import.meta.url));

/** The cache folder. */
export function aiCliCache(): string {
  return Deno.env.get("GIT_PAW_AI_CLIS") ?? join(checkout, ".cache", "ai-clis");
}

let installing: Promise<void> | null = null;

/** Install the pinned CLIs into the cache unless they are there already. */
export function ensureAiClis(): Promise<void> {
  installing ??= (async () => {
    const out = await new Deno.Command("bash", {
      args: [join(checkout, "tools", "install_ai_clis.sh")],
      env: { GIT_PAW_AI_CLIS: aiCliCache() },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `Cannot install the AI CLIs: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
  })();
  return installing;
}

/** Absolute path of a CLI's launcher in the cache (installing it first). */
export async function aiCliBin(cli: AiCli): Promise<string> {
  await ensureAiClis();
  return join(aiCliCache(), "node_modules", ".bin", cli);
}

/** The folder holding the CLIs' launchers (to put first on a pane's PATH). */
export async function aiCliBinDir(): Promise<string> {
  await ensureAiClis();
  return join(aiCliCache(), "node_modules", ".bin");
}
