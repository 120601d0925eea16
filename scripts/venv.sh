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
        # --no-compile: the `ansible` package alone brings about 15,000 modules of collections the
        # project never imports; Python compiles what is imported, on first use, instead of pip
        # compiling everything up front.
        "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --no-compile \
            -r "${root}/requirements-dev.txt" -r "${root}/requirements.txt" >>"${log}" 2>&1 || rc=$?
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
