# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The posture report's HTML page as a person sees it, in headless Chromium: the totals, the accounts table, and sorting
by clicking a header. Skips, saying why, only when Chromium, its driver or selenium is missing (Debian packages
chromium and chromium-driver; selenium from requirements-dev.txt)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils.report import run
from tests.unit.plugins.module_utils.report.sets import organization

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
except ImportError:  # pragma: no cover - the skip below says so
    webdriver = None

MISSING = [name for name, found in (("chromium", CHROMIUM), ("chromedriver", DRIVER), ("selenium", webdriver)) if not found]
pytestmark = pytest.mark.skipif(bool(MISSING), reason="headless Chromium test needs chromium and chromedriver on PATH (apt-get install chromium "
                                                      "chromium-driver) and selenium (requirements-dev.txt); missing: %s" % ", ".join(MISSING))


@pytest.fixture(name="browser")
def fixture_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def column(browser, table_id, index):
    return [row.find_elements(By.TAG_NAME, "td")[index].text for row in browser.find_elements(By.CSS_SELECTOR, "#%s tbody tr" % table_id)]


def test_a_person_reads_the_totals_and_sorts_the_accounts(tmp_path, browser):
    ids = organization(tmp_path)
    params = {"report_dir": str(tmp_path), "formats": list(run.FORMATS), "asff": False, "import_to_security_hub": False, "caller_identity": False}
    result = run.posture_report(params, None, now=datetime(2026, 12, 6, 8, 30, tzinfo=timezone.utc))
    browser.get("file://" + result["report_files"]["html"])
    logs = browser.get_log("browser") if hasattr(browser, "get_log") else []

    assert browser.find_element(By.ID, "verdict").text == result["verdict"]["text"]
    totals = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#totals tbody td")]
    assert totals == ["4", "3", "16", "9", "2", "1", "6", "0", "0"]
    headers = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#accounts thead th")]
    assert headers[:10] == ["Account", "Name", "Reachable", "Users", "critical", "high", "medium", "low", "informational", "Findings"]
    # worst first as written
    assert column(browser, "accounts", 0) == [ids["worst"], ids["unreachable"], ids["hostile"], ids["clean"]]
    # the hostile names read as written, and nothing of them ran
    assert "dev & <test>" in column(browser, "accounts", 1)
    assert any(text.startswith('=HYPERLINK("x")<script>alert(1)</script>') for text in column(browser, "findings", 4))
    assert browser.execute_script("return document.scripts.length") == 1
    assert not [entry for entry in logs if entry.get("level") == "SEVERE"], logs

    findings_header = browser.find_elements(By.CSS_SELECTOR, "#accounts thead th")[9]
    findings_header.click()
    assert column(browser, "accounts", 9) == ["0", "1", "2", "6"] and findings_header.get_attribute("aria-sort") == "ascending"
    findings_header.click()
    assert column(browser, "accounts", 9) == ["6", "2", "1", "0"] and findings_header.get_attribute("aria-sort") == "descending"
    name_header = browser.find_elements(By.CSS_SELECTOR, "#accounts thead th")[1]
    name_header.click()
    assert column(browser, "accounts", 1) == sorted(["prod", "sandbox", "dev & <test>", "logs"], key=str.lower)
    assert findings_header.get_attribute("aria-sort") is None

    # printed: the print CSS applies (no sort arrows, no header shading), and every account row is on the page
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    shade = browser.execute_script("return getComputedStyle(document.querySelector('#accounts th')).backgroundColor")
    assert shade in ("rgba(0, 0, 0, 0)", "transparent")
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
    assert len(pdf["data"]) > 1000
    with open(result["report_files"]["json"], encoding="utf-8") as handle:
        assert len(json.load(handle)["accounts"]) == len(column(browser, "accounts", 0))
