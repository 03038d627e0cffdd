#!/usr/bin/env bash
# agent-strace's CI gate: runs `eval ci`, `lint --strict` and `audit` over the sessions a CI job
# recorded, writes a markdown job summary ($GITHUB_STEP_SUMMARY, else stdout) and exits 1 when
# any gate fails (2 when the gate itself could not run). Used by action.yml; runs anywhere.
#
# Environment (all optional):
#   AGENT_STRACE      the binary [default: agent-strace on PATH]
#   GATE_TRACE_DIR    the store [default: agent-strace's own default]
#   GATE_CHECKS       which gates, comma-separated, spaces and case ignored; a name not among
#                     eval, lint and audit, or none, is an error (exit 2) [default: eval,lint,audit]
#   GATE_POLICY       the policy file for audit [default: the nearest .agent-scope.json]
#   GATE_EVALS        the eval config [default: the nearest .agent-evals.yaml]
#   GATE_SINCE        only sessions started since (a date or an age like 2h) [default: all]
set -uo pipefail

bin=${AGENT_STRACE:-agent-strace}
store=()
[ -n "${GATE_TRACE_DIR:-}" ] && store=(--trace-dir "$GATE_TRACE_DIR")

# The summary goes to the job's summary file, else to standard output.
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  exec 3>>"$GITHUB_STEP_SUMMARY"
else
  exec 3>&1
fi

# HTML-escaped, so a session's text cannot add markup to the summary; a pipe too, which would
# end a cell of its table.
escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/|/\&#124;/g'; }

# The gates to run, name by name: a comma or a newline between names, spaces around them and
# their case ignored (`lint, audit` in YAML). A name it does not know is an error, never a gate
# left out: a typo must not pass the step. Unset is the default; set but empty names nothing.
known="eval, lint, audit"
run_eval=0 run_lint=0 run_audit=0 named=0
names=$(printf '%s\n' "${GATE_CHECKS-eval,lint,audit}" | tr ',' '\n' |
  sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | tr '[:upper:]' '[:lower:]')
while IFS= read -r name; do
  case $name in
    "") continue ;;
    eval) run_eval=1 ;;
    lint) run_lint=1 ;;
    audit) run_audit=1 ;;
    *)
      printf '## agent-strace\n\n⚠️ Unknown check <code>%s</code> in the checks list; the known ones are %s.\n' \
        "$(printf '%s' "$name" | escape)" "$known" >&3
      # The job's log says it too: a step that fails must say why where it is read first.
      printf 'agent-strace gate: unknown check %q in the checks list; the known ones are %s\n' \
        "$name" "$known" >&2
      exit 2
      ;;
  esac
  named=1
done <<<"$names"
if [ $named -eq 0 ]; then
  printf '## agent-strace\n\n⚠️ The checks list has no check named in it; the known ones are %s.\n' "$known" >&3
  printf 'agent-strace gate: the checks list names no check; the known ones are %s\n' "$known" >&2
  exit 2
fi

rows=()
details=()
failed=0
broken=0

# gate NAME COMMAND...: runs one check, keeps its exit code and output for the summary.
gate() {
  local name=$1; shift
  local output code
  # Not on the list of ids the loop reads.
  output=$("$@" 2>&1 </dev/null)
  code=$?
  local verdict
  case $code in
    0) verdict="✅ passed" ;;
    1) verdict="❌ failed"; failed=1 ;;
    *) verdict="⚠️ could not run (exit $code)"; broken=1 ;;
  esac
  # A session's id is its own text too.
  name=$(printf '%s' "$name" | escape)
  rows+=("| <code>$name</code> | $verdict |")
  details+=("<details><summary>$name</summary>" "" "<pre>$(printf '%s\n' "$output" | escape)</pre>" "</details>" "")
}

# Every session, subagents' included: a subagent's calls are in its own session. A listing that
# fails is a gate that could not run, never "nothing to check": a store that is not there means
# nothing was recorded, which a gate cannot pass.
listing=(list --all --format json)
[ -n "${GATE_SINCE:-}" ] && listing+=(--since "$GATE_SINCE")
said=$(mktemp)
listed=$("$bin" "${store[@]}" "${listing[@]}" 2>"$said")
code=$?
if [ $code -ne 0 ]; then
  printf '## agent-strace\n\n⚠️ The sessions could not be listed (exit %s):\n\n<pre>%s</pre>\n' \
    "$code" "$(escape <"$said")" >&3
  printf 'agent-strace gate: the sessions could not be listed (exit %s):\n' "$code" >&2
  cat "$said" >&2
  rm -f "$said"
  exit 2
fi
rm -f "$said"
# One id a line, as the listing has them: an id holds no backslash, no control character and no
# newline, so its only escape in JSON is that of a quote.
ids=$(printf '%s\n' "$listed" | sed -n 's/^ *"session_id": "\(.*\)",\{0,1\}$/\1/p' | sed 's/\\"/"/g')

if [ -z "$ids" ]; then
  printf '## agent-strace\n\nNo recorded sessions to check.\n' >&3
  exit 0
fi

if [ $run_lint -eq 1 ]; then
  since=()
  [ -n "${GATE_SINCE:-}" ] && since=(--since "$GATE_SINCE")
  gate "lint --strict" "$bin" "${store[@]}" lint --all "${since[@]}" --strict
fi
# Line by line: an id may hold spaces, or begin with a dash.
while IFS= read -r id; do
  if [ $run_audit -eq 1 ]; then
    policy=()
    [ -n "${GATE_POLICY:-}" ] && policy=(--policy "$GATE_POLICY")
    gate "audit $id" "$bin" "${store[@]}" audit "${policy[@]}" -- "$id"
  fi
  if [ $run_eval -eq 1 ]; then
    config=()
    [ -n "${GATE_EVALS:-}" ] && config=(--config "$GATE_EVALS")
    gate "eval ci $id" "$bin" "${store[@]}" eval ci --session="$id" "${config[@]}"
  fi
done <<<"$ids"

{
  printf '## agent-strace\n\n'
  printf '| check | result |\n|---|---|\n'
  printf '%s\n' "${rows[@]}"
  printf '\n'
  printf '%s\n' "${details[@]}"
} >&3

if [ $broken -ne 0 ]; then exit 2; fi
exit $failed
