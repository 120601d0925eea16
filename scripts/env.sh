# shellcheck shell=bash
# Environment shared by scripts/test.sh, scripts/demo.sh and the pytest fixtures
# (tests/integration/conftest.py sources this file and reads the result).
#
# Source it:   . scripts/env.sh
#
# It does not create the virtual environment (scripts/venv.sh does); it only
#   * builds the collection tree .build/collections/ansible_collections/iamguard/aws
#     (a symlink to the checkout), so ansible-playbook, ansible-doc and ansible-lint
#     resolve iamguard.aws straight from the working tree;
#   * exports ANSIBLE_COLLECTIONS_PATH (amazon.aws keeps resolving from the venv's
#     site-packages/ansible_collections through Ansible's sys.path scan);
#   * puts the venv's bin/ first on PATH and points Ansible's Python at the venv,
#     so modules run with boto3 and pyotp.
#
# Overrides: IAMGUARD_VENV (a different virtual environment, e.g. the one pytest
# runs from), IAMGUARD_BUILD_DIR (default: <repo>/.build).

IAMGUARD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
IAMGUARD_VENV="${IAMGUARD_VENV:-${IAMGUARD_ROOT}/.venv}"
IAMGUARD_BUILD_DIR="${IAMGUARD_BUILD_DIR:-${IAMGUARD_ROOT}/.build}"
export IAMGUARD_ROOT IAMGUARD_VENV IAMGUARD_BUILD_DIR

# Collection tree: <build>/collections/ansible_collections/iamguard/aws -> checkout.
iamguard_collection_tree() {
    local ns_dir="${IAMGUARD_BUILD_DIR}/collections/ansible_collections/iamguard"
    mkdir -p "${ns_dir}"
    if [[ "$(readlink "${ns_dir}/aws" 2>/dev/null)" != "${IAMGUARD_ROOT}" ]]; then
        if [[ ! -L "${ns_dir}/aws" ]]; then rm -rf "${ns_dir}/aws"; fi
        # -fn: replace a link in place; never follow it and create one inside the checkout,
        # when two processes (pytest workers) set the tree up at the same time.
        ln -sfn "${IAMGUARD_ROOT}" "${ns_dir}/aws"
    fi
}
iamguard_collection_tree

export ANSIBLE_COLLECTIONS_PATH="${IAMGUARD_BUILD_DIR}/collections"
# Keep the sys.path scan on: amazon.aws (and ansible.posix, ...) come from the
# `ansible` package in the venv's site-packages.
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=True

if [[ -d "${IAMGUARD_VENV}/bin" ]]; then
    export VIRTUAL_ENV="${IAMGUARD_VENV}"
    case ":${PATH}:" in
        *":${IAMGUARD_VENV}/bin:"*) ;;
        *) export PATH="${IAMGUARD_VENV}/bin:${PATH}" ;;
    esac
    export ANSIBLE_PYTHON_INTERPRETER="${IAMGUARD_VENV}/bin/python"
fi

# Implicit localhost, without the "no inventory" warnings.
export ANSIBLE_LOCALHOST_WARNING=False
export ANSIBLE_INVENTORY_UNPARSED_WARNING=False
# Nothing from the network: ansible-lint stays offline, pip stays quiet about itself.
export PIP_DISABLE_PIP_VERSION_CHECK=1

# The AWS SDK aimed at a local simulator with dummy credentials, never a real account:
# the one definition the demo and the integration fixtures use. The caller exports
# AWS_ENDPOINT_URL itself (the simulator's port is only known once it listens).
iamguard_sdk_to_simulator() {
    unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
        AWS_ENDPOINT_URL_IAM AWS_ENDPOINT_URL_STS AWS_CA_BUNDLE
    export AWS_ACCESS_KEY_ID=testing
    export AWS_SECRET_ACCESS_KEY=testing
    export AWS_DEFAULT_REGION=us-east-1
    export AWS_REGION=us-east-1
    export AWS_CONFIG_FILE=/dev/null
    export AWS_SHARED_CREDENTIALS_FILE=/dev/null
    export AWS_EC2_METADATA_DISABLED=true
}
