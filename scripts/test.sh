#!/usr/bin/env bash
# The project's test command: bash scripts/test.sh
#
# On a fresh clone it sets everything up itself (scripts/venv.sh), then runs
#   1. pytest over tests/integration, tests/bench_tests, tests/property, tests/simulator_tests and
#      tests/unit (those that exist), on three workers (pytest-xdist; the longest tests first, see
#      tests/conftest.py, so the quick tests fill the gaps at the end)
#   2. ansible-lint (production profile, offline; configuration in .ansible-lint), started before
#      pytest and run alongside it at a lower priority; its output is shown after pytest's
#   3. ansible-test sanity on Python 3.11 (scripts/sanity.sh), started before pytest and
#      run alongside it at a lower priority; its output is shown last
# Every step runs even when an earlier one failed; the exit status is non-zero when any
# step failed. Full logs: .build/logs/.
#
# Options: --quick  the fast local loop: pytest over tests/unit, tests/simulator_tests,
#                   tests/property (10 generated accounts) and the harness smoke tests (no
#                   ansible-playbook integration suite, no benchmark smoke run), ansible-lint,
#                   no sanity.
#                   CI never passes it.
# Environment: IAMGUARD_TEST_WORKERS  pytest workers (default 3; 1 runs pytest in one process)
#              PYTEST_ADDOPTS         extra pytest arguments (e.g. -x, -k NAME)
#              IAMGUARD_HYPOTHESIS_EXAMPLES, IAMGUARD_BENCH_USERS: bigger generated cases
#              (README, section Tests)
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${root}" || exit 1
logs="${root}/.build/logs"
mkdir -p "${logs}"

quick=0
for arg in "$@"; do
    case "${arg}" in
        --quick) quick=1 ;;
        *) echo "usage: bash scripts/test.sh [--quick]" >&2; exit 2 ;;
    esac
done

started=${SECONDS}
names=()
results=()
durations=()
failed=0

header() {
    echo
    echo "================================================================================"
    echo "== $*"
    echo "================================================================================"
}

# record NAME STATUS SECONDS
record() {
    names+=("$1")
    results+=("$2")
    durations+=("$3")
    if [[ "$2" == FAIL ]]; then failed=1; fi
}

hms() {
    local s=$1
    if ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "${s}"; fi
}

summary() {
    header "summary"
    local i overall=PASS parts=()
    for i in "${!names[@]}"; do
        printf '  %-22s %-5s %8s\n' "${names[$i]}" "${results[$i]}" "$(hms "${durations[$i]}")"
        parts+=("${names[$i]} ${results[$i]}")
    done
    if ((failed)); then overall=FAIL; fi
    local joined
    joined="$(printf '%s, ' "${parts[@]}")"
    echo "test.sh: ${overall} in $(hms $((SECONDS - started))) (${joined%, })"
    # Last line: pytest's counts in the plain 'N passed, N failed' form.
    echo "${pytest_counts}"
}

pytest_counts="pytest: did not run"

# --- 0. set-up ------------------------------------------------------------------------
header "[0/3] set-up: virtual environment (scripts/venv.sh)"
t=${SECONDS}
if ! bash scripts/venv.sh </dev/null; then
    record setup FAIL $((SECONDS - t))
    summary
    exit 1
fi
# shellcheck source=scripts/env.sh
. scripts/env.sh
record setup ok $((SECONDS - t))
ansible_version="$(ansible --version)"  # whole: `| head` would close the pipe on it
echo "python: $(command -v python) ($(python --version 2>&1)); ${ansible_version%%$'\n'*}"
echo "ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH}"

# --- 3. ansible-test sanity, started first, in the background ----------------------------
# It runs alongside pytest at a lower priority (nice): it takes the CPU time pytest leaves
# (sleeps, waits for the simulator, the last worker's tail) and installs its virtual
# environments meanwhile. Its output is shown after ansible-lint. pytest starts once
# sanity.sh has copied the project into .build/sanity (its only write into the checkout),
# so tests comparing the checkout's files before and after see no change.
sanity_pid=""
if ((!quick)); then
    sanity_started=${SECONDS}
    rm -f "${logs}/sanity.log" "${logs}/sanity.rc" "${logs}/sanity.pid"
    (
        # A session of its own (setsid), so that an interrupted test.sh ends all of it.
        setsid nice -n 10 bash scripts/sanity.sh </dev/null >"${logs}/sanity.log" 2>&1 &
        echo "$!" >"${logs}/sanity.pid"
        rc=0
        wait "$!" || rc=$?
        echo "${rc}" >"${logs}/sanity.rc"
    ) &
    sanity_pid=$!
    # shellcheck disable=SC2016 # expanded when the trap runs
    trap 'if [[ -n "${sanity_pid}" && -s "${logs}/sanity.pid" ]]; then kill -TERM -- "-$(cat "${logs}/sanity.pid")" 2>/dev/null; fi' EXIT
    until grep -q '^sanity: copied ' "${logs}/sanity.log" 2>/dev/null || ! kill -0 "${sanity_pid}" 2>/dev/null; do
        sleep 0.2
    done
fi

# --- 2. ansible-lint, started before pytest, in the background ---------------------------
# It reads the checkout and writes only its log; at a lower priority beside pytest it takes no time of its own
# at the end. Its output is shown after pytest's.
lint_started=${SECONDS}
rm -f "${logs}/ansible-lint.log" "${logs}/ansible-lint.rc"
(
    rc=0
    nice -n 10 ansible-lint --offline --nocolor </dev/null >"${logs}/ansible-lint.log" 2>&1 || rc=$?
    echo "${rc}" >"${logs}/ansible-lint.rc"
) &
lint_pid=$!

# --- 1. pytest ------------------------------------------------------------------------
test_dirs=()
if ((quick)); then
    candidates=(tests/property tests/simulator_tests tests/unit tests/integration/test_harness.py)
    # 10 generated accounts instead of CI's 25, unless asked otherwise.
    export IAMGUARD_HYPOTHESIS_EXAMPLES="${IAMGUARD_HYPOTHESIS_EXAMPLES:-10}"
else
    # tests/conftest.py hands out the longest tests first (LONGEST_FIRST), so the workers end on short ones.
    candidates=(tests/integration tests/bench_tests tests/property tests/simulator_tests tests/unit)
fi
for d in "${candidates[@]}"; do
    if [[ -e "${d}" ]]; then test_dirs+=("${d}"); fi
done
# Three workers by default (pytest-xdist), also on two cores: many tests spend part of their time waiting
# (retry backoff through injected faults, ansible-playbook starts, the simulator's answers), and a third
# worker keeps both cores busy meanwhile (measured on a clean 2-core machine: pytest 11m48s on three
# workers, 13m40s on two). --dist loadgroup hands out single tests, but keeps
# together the tests of the modules tests/conftest.py names (an expensive module fixture each).
workers="${IAMGUARD_TEST_WORKERS:-3}"
parallel=()
if [[ "${workers}" != 1 ]]; then parallel=(-n "${workers}" --dist loadgroup); fi
header "[1/3] pytest ${test_dirs[*]} (workers: ${workers})"
t=${SECONDS}
if ((${#test_dirs[@]} == 0)); then
    echo "no test directory found (tests/unit, tests/simulator_tests, tests/integration)"
    record pytest FAIL 0
else
    # pytest.ini: -p no:cacheprovider, -ra. Exit 5 (no tests collected) is a failure too.
    # --durations: the slowest tests at the end of the log, to keep the loop short
    # (PYTEST_ADDOPTS=--durations=N for another count).
    slowest=(--durations=25)
    if [[ "${PYTEST_ADDOPTS:-}" == *--durations* ]]; then slowest=(); fi
    python -m pytest "${parallel[@]}" "${slowest[@]}" "${test_dirs[@]}" </dev/null 2>&1 | tee "${logs}/pytest.log"
    rc=${PIPESTATUS[0]}
    if ((rc == 0)); then record pytest PASS $((SECONDS - t)); else
        echo "pytest: exit status ${rc}$( ((rc == 5)) && echo ' (no tests collected)')"
        record pytest FAIL $((SECONDS - t))
    fi
    # e.g. "==== 3 failed, 25 passed, 2 skipped, 1 error in 40.12s ===="
    line="$(grep -E '^=+ .* in [0-9.]+s.* =+$' "${logs}/pytest.log" | tail -n 1)"
    if ((rc == 5)); then
        pytest_counts="pytest: no tests ran (exit status 5)"
    elif [[ -n "${line}" ]]; then
        count() { grep -oE "[0-9]+ $1" <<<"${line}" | grep -oE '^[0-9]+' || echo 0; }
        n_passed=$(count passed)
        n_failed=$(($(count failed) + $(count errors?)))
        n_skipped=$(count skipped)
        pytest_counts="pytest: ${n_passed} passed, ${n_failed} failed, ${n_skipped} skipped"
    else
        pytest_counts="pytest: no summary line (exit status ${rc})"
    fi
fi

# --- 2. ansible-lint (started alongside pytest, see above) ---------------------------------
header "[2/3] ansible-lint (profile production, offline; started alongside pytest)"
wait "${lint_pid}"
cat "${logs}/ansible-lint.log"
if [[ "$(cat "${logs}/ansible-lint.rc" 2>/dev/null || echo 1)" == 0 ]]; then
    record ansible-lint PASS $((SECONDS - lint_started))
else
    record ansible-lint FAIL $((SECONDS - lint_started))
fi

# --- 3. ansible-test sanity ---------------------------------------------------------------
if ((quick)); then
    header "[3/3] ansible-test sanity: skipped (--quick)"
    record "ansible-test sanity" SKIP 0
else
    header "[3/3] ansible-test sanity --venv --python 3.11 (scripts/sanity.sh, started alongside pytest)"
    wait "${sanity_pid}"
    sanity_pid=""
    # The full output, pip's included, is in the log; the machine's pip configuration
    # names index directories that do not all exist, and pip warns about each of them.
    grep -v -E "^WARNING: Location '[^']*' is ignored" "${logs}/sanity.log" || true
    rc="$(cat "${logs}/sanity.rc" 2>/dev/null || echo 1)"
    if [[ "${rc}" == 0 ]]; then
        record "ansible-test sanity" PASS $((SECONDS - sanity_started))
    else
        echo "sanity: exit status ${rc}"
        record "ansible-test sanity" FAIL $((SECONDS - sanity_started))
    fi
fi

summary
exit "${failed}"
