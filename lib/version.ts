/** git-paw for Deno version, reported by `--version` and `/status`. */
export const VERSION = "0.1.0";
