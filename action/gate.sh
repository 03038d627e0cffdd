#!/usr/bin/env bash
# agent-strace's CI gate: runs `eval ci`, `lint --strict` and `audit` over the sessions a CI job
# recorded, writes a markdown job summary ($GITHUB_STEP_SUMMARY, else stdout) and exits 1 when
# any gate fails (2 when the gate itself could not run). Used by action.yml; runs anywhere.
#
# Environment (all optional):
#   AGENT_STRACE      the binary [default: agent-strace on PATH]
#   GATE_TRACE_DIR    the store [default: agent-strace's own default]
#   GATE_CHECKS       which gates, comma-separated [default: eval,lint,audit]
#   GATE_POLICY       the policy file for audit [default: the nearest .agent-scope.json]
#   GATE_EVALS        the eval config [default: the nearest .agent-evals.yaml]
#   GATE_SINCE        only sessions started since (a date or an age like 2h) [default: all]
set -uo pipefail

bin=${AGENT_STRACE:-agent-strace}
checks=",${GATE_CHECKS:-eval,lint,audit},"
store=()
[ -n "${GATE_TRACE_DIR:-}" ] && store=(--trace-dir "$GATE_TRACE_DIR")

# The summary goes to the job's summary file, else to standard output.
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  exec 3>>"$GITHUB_STEP_SUMMARY"
else
  exec 3>&1
fi

# HTML-escaped, so a session's text cannot add markup to the summary.
escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

rows=()
details=()
failed=0
broken=0

# gate NAME COMMAND...: runs one check, keeps its exit code and output for the summary.
gate() {
  local name=$1; shift
  local output code
  output=$("$@" 2>&1)
  code=$?
  local verdict
  case $code in
    0) verdict="✅ passed" ;;
    1) verdict="❌ failed"; failed=1 ;;
    *) verdict="⚠️ could not run (exit $code)"; broken=1 ;;
  esac
  rows+=("| \`$name\` | $verdict |")
  details+=("<details><summary>$name</summary>" "" "<pre>$(printf '%s\n' "$output" | escape)</pre>" "</details>" "")
}

where="SELECT session_id FROM sessions"
if [ -n "${GATE_SINCE:-}" ]; then
  # `list` reads the age or date the way every command does; its ids bound the query.
  ids=$("$bin" "${store[@]}" list --since "$GATE_SINCE" --format json 2>/dev/null |
    grep -o '"session_id": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')
else
  # CSV lines end in CRLF (RFC 4180).
  ids=$("$bin" "${store[@]}" sql "$where ORDER BY started_at" --format csv 2>/dev/null | tail -n +2 | tr -d '\r')
fi

if [ -z "$ids" ]; then
  printf '## agent-strace\n\nNo recorded sessions to check.\n' >&3
  exit 0
fi

if [[ $checks == *,lint,* ]]; then
  since=()
  [ -n "${GATE_SINCE:-}" ] && since=(--since "$GATE_SINCE")
  gate "lint --strict" "$bin" "${store[@]}" lint --all "${since[@]}" --strict
fi
for id in $ids; do
  if [[ $checks == *,audit,* ]]; then
    policy=()
    [ -n "${GATE_POLICY:-}" ] && policy=(--policy "$GATE_POLICY")
    gate "audit $id" "$bin" "${store[@]}" audit "$id" "${policy[@]}"
  fi
  if [[ $checks == *,eval,* ]]; then
    config=()
    [ -n "${GATE_EVALS:-}" ] && config=(--config "$GATE_EVALS")
    gate "eval ci $id" "$bin" "${store[@]}" eval ci --session "$id" "${config[@]}"
  fi
done

{
  printf '## agent-strace\n\n'
  printf '| check | result |\n|---|---|\n'
  printf '%s\n' "${rows[@]}"
  printf '\n'
  printf '%s\n' "${details[@]}"
} >&3

if [ $broken -ne 0 ]; then exit 2; fi
exit $failed
