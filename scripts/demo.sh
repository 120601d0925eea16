#!/usr/bin/env bash
# The demo: bash scripts/demo.sh [extra ansible-playbook options, e.g. -v or --check]
#
# Sets up the venv, starts the local IAM simulator in the background, points the AWS
# SDK at it with dummy credentials, seeds the demo account and runs
# playbooks/demo.yml. The simulator is stopped on exit, whatever happens.
# Output files (simulator log, anything the playbook writes there): demo-output/
# (IAMGUARD_DEMO_DIR overrides it; IAMGUARD_SIMULATOR_PORT picks a fixed port).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${root}"

bash scripts/venv.sh </dev/null
# shellcheck source=scripts/env.sh
. scripts/env.sh

demo_dir="${IAMGUARD_DEMO_DIR:-${root}/demo-output}"
mkdir -p "${demo_dir}"
export IAMGUARD_DEMO_DIR="${demo_dir}"
sim_log="${demo_dir}/simulator.log"

# --- simulator ------------------------------------------------------------------------
sim_pid=""
stop_simulator() {
    if [[ -n "${sim_pid}" ]] && kill -0 "${sim_pid}" 2>/dev/null; then
        kill -TERM "${sim_pid}" 2>/dev/null || true
        wait "${sim_pid}" 2>/dev/null || true
        echo "demo: simulator stopped"
    fi
    sim_pid=""
}
trap stop_simulator EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python -m tests.simulator serve --port "${IAMGUARD_SIMULATOR_PORT:-0}" </dev/null >"${sim_log}" 2>&1 &
sim_pid=$!

url=""
for _ in $(seq 1 300); do  # up to 30 s
    url="$(sed -n 's/^IAMGUARD_SIMULATOR_URL=//p' "${sim_log}" | head -n 1)"
    if [[ -n "${url}" ]]; then break; fi
    if ! kill -0 "${sim_pid}" 2>/dev/null; then
        echo "demo: the simulator exited before listening; its log (${sim_log}):" >&2
        cat "${sim_log}" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z "${url}" ]]; then
    echo "demo: the simulator did not report its URL within 30 s; log: ${sim_log}" >&2
    exit 1
fi
echo "demo: simulator listening on ${url} (log: ${sim_log})"

# --- AWS SDK -> simulator, never a real account -----------------------------------------
iamguard_sdk_to_simulator
export IAMGUARD_SIMULATOR_URL="${url}"
export AWS_ENDPOINT_URL="${url}"

# --- seeding ------------------------------------------------------------------------------
python scripts/demo_seed.py
curl -fsS -X DELETE "${url}/_iamguard/counters" >/dev/null  # count the playbook's calls only

# --- the demo playbook --------------------------------------------------------------------
ansible-playbook playbooks/demo.yml "$@"

# --- what it cost: IAM/STS calls the playbook made, from the simulator's counters -----------
curl -fsS "${url}/_iamguard/counters" | python -c '
import json, sys
counts = json.load(sys.stdin)
calls = {k: v for k, v in counts.items() if ":" in k}
print("demo: %d IAM/STS API calls by the playbook:" % sum(calls.values()))
for name, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
    print("  %4d  %s" % (count, name))
'
echo "demo: files written (mode 0600) in ${demo_dir}:"
for written in "${demo_dir}"/*; do
    if [[ "${written}" != "${sim_log}" ]]; then ls -l "${written}"; fi
done
