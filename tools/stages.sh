# Sourced by tools/test.sh: runs named stages under time budgets.
#
#   stage NAME SECONDS command...
# runs the command under `timeout` with the smaller of SECONDS and what is
# left before CAUSEWAY_DEADLINE (epoch seconds, the bound of the whole run),
# prints how long it took, and stops the whole run at the first stage that
# fails or outlives its budget, saying which. stage_summary prints every
# stage's duration once more at the end.

: "${CAUSEWAY_DEADLINE:=$(( $(date +%s) + 75 * 60 ))}"
export CAUSEWAY_DEADLINE
causeway_stage_log=()

stage() {
  local name=$1 budget=$2; shift 2
  local left=$(( CAUSEWAY_DEADLINE - $(date +%s) ))
  if [ "$left" -le 0 ]; then
    echo "stage '$name' not started: the run's overall time bound has passed" >&2
    exit 1
  fi
  local limit=$(( budget < left ? budget : left ))
  local start=$SECONDS rc=0
  echo "== stage '$name' (budget ${limit} s)" >&2
  timeout --kill-after=20 "$limit" "$@" || rc=$?
  local took=$(( SECONDS - start ))
  causeway_stage_log+=("$name: ${took} s")
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "== stage '$name' ran out of its ${limit} s budget after ${took} s" >&2
    exit 1
  fi
  if [ "$rc" -ne 0 ]; then
    echo "== stage '$name' failed (exit $rc) after ${took} s" >&2
    exit "$rc"
  fi
  echo "== stage '$name' done in ${took} s" >&2
}

stage_summary() {
  echo "== durations: $(IFS=';'; echo "${causeway_stage_log[*]}" | sed 's/;/, /g')" >&2
}
