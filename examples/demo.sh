#!/usr/bin/env bash
# Builds agent-strace, plays a realistic Claude Code session through the real `hook` path
# (one process per hook, as Claude Code runs them), then shows list, replay and stats.
# Usage: bash examples/demo.sh   (the store goes to a temporary folder, printed at the end)
# AGENT_STRACE_BIN=/path/to/agent-strace plays it with that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${AGENT_STRACE_BIN:-}"
if [ -z "$bin" ]; then
  # Cargo names the binary it built, wherever CARGO_TARGET_DIR or a config puts it.
  bin=$(cargo build --release --quiet --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*agent-strace\)".*/\1/p' | tail -n 1)
  if [ ! -x "$bin" ]; then
    echo "demo: cargo built no agent-strace binary" >&2
    exit 1
  fi
fi
store=$(mktemp -d)/.agent-traces
export AGENT_TRACE_DIR="$store"

while IFS=$'\t' read -r event pause payload; do
  case "$event" in ''|'#'*) continue ;; esac
  sleep "$pause"
  printf '%s' "$payload" | "$bin" hook "$event"
done < examples/claude-code-session.tsv

echo "== agent-strace list"
"$bin" list
echo
echo "== agent-strace replay --expand-subagents"
"$bin" replay --expand-subagents
echo
echo "== agent-strace stats --include-subagents"
"$bin" stats --include-subagents
echo
echo "The session is in $store (try: AGENT_TRACE_DIR=$store $bin inspect)"
