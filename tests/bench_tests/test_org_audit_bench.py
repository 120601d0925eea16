"""Smoke run of the organization benchmark (python -m bench.org_audit) at 6 accounts: the harness and the correctness
columns (every account reported, every planted finding found, exit status 0), never the timings."""

import os
import subprocess
import sys

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def test_org_audit_bench_reports_every_account_and_planted_finding():
    done = subprocess.run([sys.executable, "-m", "bench.org_audit", "--accounts", "6", "--latency", "0", "--throttle-rate", "0"],
                          cwd=REPO, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in done.stdout.splitlines() if line.startswith("| ") and "one call" in line}
    assert sorted(rows) == ["mfa_audit.yml, one call", "root_credentials_audit.yml, one call"], done.stdout
    for label, cells in rows.items():
        assert cells[0] == "6" and cells[6] == "6/6" and cells[8] == "0", (label, done.stdout)
    # 1 in 10 accounts is planted: account 0 (3 findings in the MFA audit, 1 in the root audit)
    assert rows["mfa_audit.yml, one call"][7] == "3/3" and rows["root_credentials_audit.yml, one call"][7] == "1/1", done.stdout
    assert float(rows["mfa_audit.yml, one call"][3]) <= 8, done.stdout  # API calls per account
