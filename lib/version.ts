/** git-paw for Deno version, reported by `--version` and `/status`. */
export const VERSION = "0.1.0";

/** The Deno version git-paw is pinned to and tested on (`.ci/run`, README). */
export const PINNED_DENO_VERSION = "2.9.6";
