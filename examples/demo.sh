#!/usr/bin/env bash
# Builds agent-strace, plays a realistic Claude Code session through the real `hook` path
# (one process per hook, as Claude Code runs them), then shows list, replay and stats.
# Usage: bash examples/demo.sh   (the store goes to a temporary folder, printed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/agent-strace"
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
