#!/usr/bin/env bash
# The execution environment: bash scripts/build-ee.sh {create|build} [ansible-builder options, e.g. -t iamguard-aws-ee:0.1.0]
#
# Runs `ansible-builder <create|build> -f execution-environment.yml` from the repository root,
# after checking that the collection tarball the definition copies in is there and current:
# .build/dist/iamguard-aws-<galaxy.yml version>.tar.gz, newer than every file it is built from.
# ansible-builder alone only warns about a missing tarball and writes a build context (create)
# or an image (build) without iamguard.aws; this script fails instead, and says what to run:
#
#   ansible-galaxy collection build --force --output-path .build/dist
#
# (which needs the Python package distlib, for galaxy.yml's `manifest:` directive).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${root}"

usage="usage: bash scripts/build-ee.sh {create|build} [ansible-builder options]"
command="${1:-}"
case "${command}" in
    create | build) shift ;;
    *) echo "${usage}" >&2; exit 2 ;;
esac

version="$(sed -n 's/^version:[[:space:]]*//p' galaxy.yml)"
tarball=".build/dist/iamguard-aws-${version}.tar.gz"
build_it="ansible-galaxy collection build --force --output-path .build/dist"
if [[ ! -f "${tarball}" ]]; then
    echo "build-ee: ${tarball} is missing, so the execution environment would not contain iamguard.aws." >&2
    echo "Build the collection first: ${build_it}" >&2
    echo "(it needs the Python package distlib, for galaxy.yml's manifest: directive), then run this script again." >&2
    exit 1
fi
sources=()
for source in galaxy.yml README.md requirements.txt meta plugins playbooks docs changelogs; do
    [[ -e "${source}" ]] && sources+=("${source}")
done
newer="$(find "${sources[@]}" -newer "${tarball}" -type f ! -name '*.pyc' -print -quit)"
if [[ -n "${newer}" ]]; then
    echo "build-ee: ${tarball} is older than ${newer}: build the collection again (${build_it}), then run this script again." >&2
    exit 1
fi
exec ansible-builder "${command}" -f execution-environment.yml "$@"
