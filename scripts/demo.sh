#!/usr/bin/env bash
# The demo: bash scripts/demo.sh [extra ansible-playbook options, e.g. -v]
#
# Sets up the venv, starts the local IAM simulator in the background, points the AWS SDK
# at it with dummy credentials, seeds the demo account and runs the playbooks a person
# would: the MFA audit; enrolments and a lost-device reset; orphan cleanup and offboarding
# in check mode, then for real; the audit again. Then the same account as the management
# account of an organization with three members: the members as an inventory read from AWS
# Organizations, the MFA audit of every member, the audit of the members' root credentials, and
# their removal (check mode, then for real) from every member but one left out. It ends by telling where the Markdown
# report and the manifests are. The simulator is stopped on exit, whatever happens.
#
# Everything it writes (QR code, seeds, manifests, reports, simulator log) goes to a fresh
# folder under ${TMPDIR:-/tmp}, never into the source tree, so no secret can end up in a
# built collection. IAMGUARD_DEMO_DIR picks the folder (outside the checkout);
# IAMGUARD_SIMULATOR_PORT picks a fixed port. Every run starts from a freshly seeded
# account, so a second run tells the same story.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${root}"

bash scripts/venv.sh </dev/null
# shellcheck source=scripts/env.sh
. scripts/env.sh

if [[ -n "${IAMGUARD_DEMO_DIR:-}" ]]; then
    demo_dir="$(realpath -m "${IAMGUARD_DEMO_DIR}")"
    if [[ "${demo_dir}/" == "${root}/"* ]]; then
        echo "demo: IAMGUARD_DEMO_DIR (${demo_dir}) is inside the checkout; the demo writes MFA secrets there: pick a folder outside ${root}" >&2
        exit 2
    fi
    mkdir -p "${demo_dir}"
else
    demo_dir="$(mktemp -d "${TMPDIR:-/tmp}/iamguard-demo.XXXXXX")"
fi
chmod 700 "${demo_dir}"
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
# The demo account becomes the management account of an organization with three members. Each
# member's root user has a password, an access key, a signing certificate and MFA devices.
control() {
    curl -fsS -X POST -H 'Content-Type: application/json' --data "$2" "${url}/_iamguard/$1"
}
organization="$(control seed-organization '{"members": ["dev", "staging", "sandbox"], "ous": {"Workloads": ["dev", "staging"], "Sandbox": ["sandbox"]}}')"
account_of() { python -c 'import json, sys; print(json.load(sys.stdin)["accounts"][sys.argv[1]])' "$1" <<<"${organization}"; }
control seed-root-credentials "{\"account\": \"$(account_of dev)\", \"mfa_devices\": [\"virtual\", \"hardware\"]}" >/dev/null
control seed-root-credentials "{\"account\": \"$(account_of staging)\", \"mfa_devices\": [\"passkey\"]}" >/dev/null
control seed-root-credentials "{\"account\": \"$(account_of sandbox)\", \"mfa_devices\": [\"virtual\"]}" >/dev/null
echo
echo "demo: seeded an organization: management account + members dev, staging (OU Workloads) and sandbox (OU Sandbox),"
echo "demo: each member's root user with a password, an access key, a signing certificate and MFA devices"
curl -fsS -X DELETE "${url}/_iamguard/counters" >/dev/null  # count the playbooks' calls only

# --- the playbooks -------------------------------------------------------------------------
step() {
    echo
    echo "demo: === $1"
    shift
    ansible-playbook "$@" "${playbook_args[@]}"
}
playbook_args=("$@")
reports="${demo_dir}/reports"
manifests="${demo_dir}/manifests"
secrets="${demo_dir}/secrets"
leavers='["carol", "break-glass-admin"]'  # break-glass-admin is protected: reported, never touched

step "1. MFA audit of the seeded account (read-only; report set in ${reports})" \
    playbooks/mfa_audit.yml -e "report_dir=${reports}"
step "2. dave starts enrolling: QR code to a 0600 file, the device waits for his two codes" \
    playbooks/enroll_mfa.yml -e "enroll_user_name=dave enroll_secret_dir=${secrets} enroll_force=true"
step "3. svc-deploy is enrolled unattended: seed to a 0600 file" \
    playbooks/enroll_mfa.yml -e "enroll_user_name=svc-deploy enroll_mode=unattended enroll_secret_dir=${secrets} enroll_force=true"
step "4. bob lost his phone: reset his devices" \
    playbooks/reset_mfa.yml -e "reset_user_name=bob"
step "5. orphan cleanup, check mode: what would be deleted (dave's waiting device is not an orphan)" \
    playbooks/orphan_cleanup.yml --check
step "6. offboarding, check mode: each leaver's exact plan (break-glass-admin is protected)" \
    playbooks/offboard.yml --check -e "{\"offboard_users\": ${leavers}, \"protected_users\": [\"break-glass-*\"]}"
step "7. orphan cleanup, for real" \
    playbooks/orphan_cleanup.yml
step "8. offboarding, for real: manifests first (${manifests})" \
    playbooks/offboard.yml -e "{\"offboard_users\": ${leavers}, \"protected_users\": [\"break-glass-*\"], \"manifest_dir\": \"${manifests}\"}"
step "9. MFA audit again" \
    playbooks/mfa_audit.yml -e "report_dir=${reports}"

# --- the whole organization: accounts from AWS Organizations, root credentials of members -------
# Two inventories read from Organizations by the iamguard.aws.accounts plugin: every member,
# and every member but sandbox (the cleanup's targets).
org_inventory="${demo_dir}/organization.accounts.yml"
cleanup_inventory="${demo_dir}/cleanup.accounts.yml"
printf '%s\n' 'plugin: iamguard.aws.accounts' >"${org_inventory}"
printf '%s\n' 'plugin: iamguard.aws.accounts' 'exclude_names: [sandbox]' >"${cleanup_inventory}"
# One folder for the organization's report sets, MFA and root alike: each audit ends with the posture report of
# every account in it, and the one after the cleanup shows the root findings it resolved.
org_reports="${reports}/organization"
root_manifests="${demo_dir}/root-manifests"

echo
echo "demo: === 10. the organization's accounts as an inventory (ansible-inventory --graph)"
ansible-inventory -i "${org_inventory}" --graph
step "11. MFA audit of every member account, each through its OrganizationAccountAccessRole" \
    -i "${org_inventory}" playbooks/mfa_audit.yml -e "report_dir=${org_reports}"
step "12. root credentials of every member (AssumeRoot with the audit task policy; read-only)" \
    -i "${org_inventory}" playbooks/root_credentials_audit.yml -e "report_dir=${org_reports}"
step "13. root credentials cleanup, check mode, every member but sandbox: each account's exact plan" \
    -i "${cleanup_inventory}" playbooks/root_credentials_cleanup.yml --check -e "manifest_dir=${root_manifests}"
step "14. root credentials cleanup, for real: manifests first (${root_manifests})" \
    -i "${cleanup_inventory}" playbooks/root_credentials_cleanup.yml -e "manifest_dir=${root_manifests}"
step "15. root credentials of every member again: dev and staging have none left, sandbox kept its own; the posture report shows what was resolved" \
    -i "${org_inventory}" playbooks/root_credentials_audit.yml -e "report_dir=${org_reports}"

# --- what it cost: IAM/STS calls the playbooks made, from the simulator's counters -----------
curl -fsS "${url}/_iamguard/counters" | python -c '
import json, sys
counts = json.load(sys.stdin)
calls = {k: v for k, v in counts.items() if ":" in k}
print("demo: %d IAM/STS API calls by the playbooks:" % sum(calls.values()))
for name, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
    print("  %4d  %s" % (count, name))
'
# The newest per-account Markdown report: the audit after the changes; the newest organization posture report.
report=""
for candidate in "${reports}"/mfa-audit-[0-9]*.md; do report="${candidate}"; done
posture=""
for candidate in "${org_reports}"/posture-report-*.html; do posture="${candidate}"; done
echo
echo "demo: everything this run wrote is in ${demo_dir} (folders 0700, secret files 0600):"
echo "demo:   the audit report after the changes (Markdown): ${report}"
echo "demo:   the organization's posture report (open it in a browser): ${posture}"
echo "demo:   the offboarding manifests: ${manifests}/"
echo "demo:   the root credentials manifests of dev and staging: ${root_manifests}/"
echo "demo:   QR code and seed files: ${secrets}/"
echo "demo:   the simulator's log: ${sim_log}"
