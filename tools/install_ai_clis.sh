#!/usr/bin/env bash
# Install the pinned real AI CLIs that the end-to-end tests drive into a
# project-local, git-ignored cache (never globally). Idempotent: a cache that
# already has these versions is left as it is.
#   GIT_PAW_AI_CLIS  the cache folder (default: <checkout>/.cache/ai-clis)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="${GIT_PAW_AI_CLIS:-$here/.cache/ai-clis}"
pins=(
  "@anthropic-ai/claude-code@2.1.328"
  "@openai/codex@0.169.0"
  "@google/gemini-cli@0.61.0"
)
mkdir -p "$dest"
stamp="$dest/.pins"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pins[*]}" ] \
  && [ -x "$dest/node_modules/.bin/claude" ] && [ -x "$dest/node_modules/.bin/codex" ] \
  && [ -x "$dest/node_modules/.bin/gemini" ]; then
  exit 0
fi
[ -f "$dest/package.json" ] || echo '{"name":"git-paw-ai-clis","private":true}' > "$dest/package.json"
echo "installing ${pins[*]} into $dest" >&2
(cd "$dest" && npm install --no-audit --no-fund --loglevel=error "${pins[@]}" >&2)
echo "${pins[*]}" > "$stamp"
