#!/usr/bin/env bash
# Create or refresh the project's virtual environment (<repo>/.venv) from
# requirements-dev.txt and requirements.txt.
#
#   bash scripts/venv.sh        # or: . scripts/venv.sh (then the venv is on PATH)
#
# Re-runs are fast: nothing is installed while the stamp (sha256 of the requirement
# files and of the interpreter version) matches. pip's output goes to
# .build/logs/venv.log and is shown only when the install fails.
#
# Overrides: IAMGUARD_PYTHON (interpreter to build the venv with; default python3.11,
# else python3), IAMGUARD_VENV (venv location).

# Install the pinned requirements into the venv. uv (installed into the venv from the package index first)
# unpacks the `ansible` package - about 40,000 files of collections - in seconds where pip takes most of a
# minute (measured on a clean 2-core machine: 10 s against about 55 s); where uv cannot be installed,
# pip does the same job. Neither compiles bytecode up front: Python compiles what is imported, on first
# use. uv does not read pip's configuration: the machine's find-links folders are handed to it.
iamguard_install_requirements() {
    local venv=$1 root=$2 links=() dir
    local requirements=(-r "${root}/requirements-dev.txt" -r "${root}/requirements.txt")
    if "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --quiet uv; then
        for dir in ${PIP_FIND_LINKS:-} $("${venv}/bin/python" -m pip config get global.find-links 2>/dev/null || true); do
            if [[ -d "${dir}" ]]; then links+=(--find-links "${dir}"); fi
        done
        if "${venv}/bin/uv" pip install --python "${venv}/bin/python" "${links[@]}" "${requirements[@]}"; then
            return 0
        fi
        echo "venv: uv could not install the requirements; pip does"
    fi
    "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --no-compile "${requirements[@]}"
}

iamguard_venv() {
    local root venv build python pyver stamp_file want have log start
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
    venv="${IAMGUARD_VENV:-${root}/.venv}"
    build="${IAMGUARD_BUILD_DIR:-${root}/.build}"
    log="${build}/logs/venv.log"
    stamp_file="${venv}/.iamguard-requirements.sha256"

    python="${IAMGUARD_PYTHON:-}"
    if [[ -z "${python}" ]]; then
        if command -v python3.11 >/dev/null 2>&1 && python3.11 -c '' >/dev/null 2>&1; then
            python=python3.11
        else
            python=python3
        fi
    fi
    if ! pyver="$("${python}" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)"; then
        echo "venv: cannot run ${python}" >&2
        return 1
    fi
    if ! "${python}" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
        echo "venv: ${python} is Python ${pyver}; Python 3.11 or newer is required" >&2
        return 1
    fi

    want="$(cd "${root}" && {
        echo "python ${pyver}"
        sha256sum requirements-dev.txt requirements.txt
    } | sha256sum | cut -d' ' -f1)"

    # A venv whose interpreter no longer runs (moved checkout, removed Python) or that was
    # built with another Python version is rebuilt.
    if [[ -e "${venv}" ]]; then
        local venv_ver
        venv_ver="$("${venv}/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
        if [[ "${venv_ver}" != "${pyver}" ]]; then
            rm -rf "${venv}"
        fi
    fi
    have="$(cat "${stamp_file}" 2>/dev/null || true)"
    if [[ -x "${venv}/bin/python" && "${have}" == "${want}" ]]; then
        echo "venv: ${venv} is up to date"
        return 0
    fi

    mkdir -p "$(dirname "${log}")"
    start=${SECONDS}
    echo "venv: installing requirements into ${venv} (Python ${pyver}; log: ${log})"
    local rc=0
    : >"${log}"
    if [[ ! -x "${venv}/bin/python" ]]; then
        "${python}" -m venv "${venv}" >>"${log}" 2>&1 || rc=$?
    fi
    if [[ ${rc} -eq 0 ]]; then
        iamguard_install_requirements "${venv}" "${root}" >>"${log}" 2>&1 || rc=$?
    fi
    if [[ ${rc} -ne 0 ]]; then
        tail -n 40 "${log}" >&2
        echo "venv: FAILED (exit ${rc}); full log: ${log}" >&2
        rm -f "${stamp_file}"
        return "${rc}"
    fi
    echo "${want}" >"${stamp_file}"
    echo "venv: ready in $((SECONDS - start))s"
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
    # Executed.
    set -euo pipefail
    iamguard_venv
else
    # Sourced: build it, then put it on PATH with the rest of the shared environment.
    # shellcheck source=scripts/env.sh
    iamguard_venv && . "$(dirname "${BASH_SOURCE[0]}")/env.sh"
fi
