#!/usr/bin/env bash
# run.sh - the docbus test runner: unit tests (cmocka, plain and under ASan+UBSan),
# integration and fault tests against the real local Kafka broker it starts and stops.
# Counts every test case and ends with one line "N passed, N failed".
#   tests/run.sh [--unit-only] [--faults] [--only PATTERN]
set -uo pipefail
cd "$(dirname "$0")/.."

unit_only=0 faults_only=0 only=""
while [ $# -gt 0 ]; do
  case $1 in
    --unit-only) unit_only=1 ;;
    --faults) faults_only=1 ;;
    --only) only=$2; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

BUILD=${BUILD:-build}
export DOCBUS="$PWD/$BUILD/docbus"
export DOCBUS_ROOT="$PWD"
# The tests get a broker of their own (own ports and data directory, always fresh), so a
# developer's broker from `make demo` on 19092 is neither disturbed nor reused.
export DOCBUS_KAFKA_DIR=${DOCBUS_KAFKA_DIR:-$PWD/$BUILD/kafka-test}
export DOCBUS_KAFKA_PORT=${DOCBUS_KAFKA_PORT:-19192}
export DOCBUS_KAFKA_CONTROLLER_PORT=${DOCBUS_KAFKA_CONTROLLER_PORT:-19193}
export DOCBUS_BOOTSTRAP=127.0.0.1:$DOCBUS_KAFKA_PORT
export DOCBUS_TEST_TMP=$(mktemp -d /tmp/docbus-test.XXXXXX)
# Every docbus run in a test talks to the test broker unless the test says otherwise.
printf 'bootstrap.servers=%s\n' "$DOCBUS_BOOTSTRAP" > "$DOCBUS_TEST_TMP/docbus.conf"
export DOCBUS_CONFIG="$DOCBUS_TEST_TMP/docbus.conf"
logdir="$BUILD/test-logs"
rm -rf "$logdir"; mkdir -p "$logdir"
passed=0 failed=0
failures=()

pass() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf '  FAIL  %s  (log: %s)\n' "$1" "$2"; }
selected() { [ -z "$only" ] || [[ $1 == *"$only"* ]]; }

# Runs one cmocka binary with TAP output and counts each of its test cases.
run_cmocka() {
  local bin=$1 label=$2 log="$logdir/$2.log" n_ok n_fail
  CMOCKA_MESSAGE_OUTPUT=TAP "$bin" > "$log" 2>&1
  local rc=$?
  n_ok=$(grep -cE '^ok [0-9]+' "$log")
  n_fail=$(grep -cE '^not ok [0-9]+' "$log")
  while read -r line; do pass "$label: ${line#* - }"; done < <(grep -E '^ok [0-9]+' "$log" | sed -E 's/^ok [0-9]+ - /x - /')
  while read -r line; do fail "$label: ${line#* - }" "$log"; done < <(grep -E '^not ok [0-9]+' "$log" | sed -E 's/^not ok [0-9]+ - /x - /')
  if [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
    fail "$label (exit $rc, crashed or sanitizer report)" "$log"
  elif [ $((n_ok + n_fail)) -eq 0 ]; then
    fail "$label (no test cases ran)" "$log"
  fi
}

# Prints the stacks of the docbus processes (and C test binaries) in process group $1 (a
# hung test's), so a timeout in CI says where it hung. Needs gdb; says so if it is missing
# or cannot attach.
dump_stacks() {
  local pgid=$1 pid exe
  command -v gdb > /dev/null || { echo "(gdb not installed: no stacks)"; return; }
  for pid in $(pgrep -g "$pgid"); do
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
    [[ $exe == "$DOCBUS"* || $exe == "$PWD/$BUILD/"* ]] || continue
    echo "--- stacks of $(tr '\0' ' ' < "/proc/$pid/cmdline" | cut -c1-200)"
    timeout 60 gdb -p "$pid" -batch -nx -ex 'thread apply all bt 30' 2>&1 |
      grep -E '^(Thread|#)|ptrace|[Cc]ould not attach' | head -150
  done
}

# After a test was killed: the broker must be running and not paused (a fault test's
# own cleanup may not have finished), else the tests after it fail too.
broker_ensure() {
  local bpid
  bpid=$(cat "$DOCBUS_KAFKA_DIR/broker.pid" 2>/dev/null)
  [ -n "$bpid" ] && kill -CONT "$bpid" 2>/dev/null
  timeout 10 kcat -b "$DOCBUS_BOOTSTRAP" -L -t __none -m 5 > /dev/null 2>&1 && return 0
  echo "run.sh: the broker does not answer after a killed test; starting it again"
  ./deploy/kafka/local.sh start > "$logdir/broker-restart.log" 2>&1 ||
    echo "run.sh: the broker did not start again (see $logdir/broker-restart.log)"
}

# Runs one script or binary test in a process group of its own: exit 0 passes, anything
# else fails. A test that outlives DOCBUS_TEST_TIMEOUT (600 s) gets the stacks of its
# processes dumped into its log, then SIGTERM (up to 60 s for its cleanup traps), then
# SIGKILL for whatever of its group is left; the broker is then checked. A failure
# prints the end of the log, so CI output shows why.
run_one() {
  local t=$1 name=$2 log="$logdir/$2.log" limit=${DOCBUS_TEST_TIMEOUT:-600}
  local start=$SECONDS pid rc i
  : > "$log"
  setsid "$t" >> "$log" 2>&1 &   # appending: the dump below must not be overwritten
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - start)) -lt "$limit" ]; do sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    { echo "=== run.sh: timed out after ${limit}s"; dump_stacks "$pid"; } >> "$log" 2>&1
    kill -TERM -- "-$pid" 2>/dev/null
    for ((i = 0; i < 60; i++)); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=124
    [ $broker_started = 1 ] && broker_ensure >> "$log" 2>&1
  else
    wait "$pid"; rc=$?
  fi
  if [ $rc = 0 ]; then
    pass "$name ($((SECONDS - start))s)"
  else
    fail "$name (exit $rc, $((SECONDS - start))s)" "$log"
    tail -n "${DOCBUS_TEST_TAIL:-40}" "$log" | cut -c1-300 | sed 's/^/    | /'
  fi
}

broker_started=0
stop_broker() {
  if [ $broker_started = 1 ]; then
    ./deploy/kafka/local.sh stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DOCBUS_TEST_TMP"
}
trap stop_broker EXIT

if [ $faults_only = 0 ]; then
  echo "== unit tests"
  for bin in "$BUILD"/tests/test_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    selected "$name" && run_cmocka "$bin" "$name"
  done
  if [ -z "${NO_SAN:-}" ] && [ "$BUILD" = build ] && [ -d build-san/tests ]; then
    echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    for bin in build-san/tests/test_*; do
      [ -x "$bin" ] || continue
      name=$(basename "$bin")
      selected "san-$name" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=use_unaligned=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_cmocka "$bin" "san-$name"
    done
  fi
fi

if [ $unit_only = 0 ]; then
  tests=()
  if [ $faults_only = 0 ]; then
    for t in tests/it/*.sh "$BUILD"/tests/it/*; do [ -x "$t" ] && tests+=("$t"); done
  fi
  for t in tests/faults/*.sh; do [ -x "$t" ] && tests+=("$t"); done
  wanted=()
  for t in "${tests[@]}"; do selected "$(basename "$t")" && wanted+=("$t"); done
  if [ ${#wanted[@]} -gt 0 ]; then
    echo "== starting the local Kafka broker"
    ./deploy/kafka/local.sh stop > /dev/null 2>&1 || true   # left by an interrupted run
    if ./deploy/kafka/local.sh start --fresh > "$logdir/broker-start.log" 2>&1; then
      broker_started=1
      for t in "${wanted[@]}"; do
        echo "== $(basename "$t")"
        run_one "$t" "$(basename "$t")"
      done
    else
      fail "broker start" "$logdir/broker-start.log"
      cat "$logdir/broker-start.log" >&2
    fi
  fi
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "failed:"
  printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
