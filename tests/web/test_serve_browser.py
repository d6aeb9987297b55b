"""`comment-guard serve` in a real headless browser (Debian's chromium, driven by Selenium).

Marked ``browser``: skipped, saying why, when chromium or chromedriver is not installed
(``.ci/run`` installs both). Selenium is pointed at Debian's chromedriver, so Selenium Manager
never tries to download a driver or a browser. The screenshot is the README's: set
``COMMENT_GUARD_SCREENSHOT=1`` to write it to ``docs/serve.png`` (otherwise it goes to the
test's temporary directory, so test runs do not keep changing a tracked file).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from guard.demo.story import QUESTION
from guard.web.server import DATABASE_NAME, ServeOptions
from tests.web.conftest import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "serve.png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; "
        ".ci/run installs them)",
    ),
]


@pytest.fixture
def browser(monkeypatch):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_open_findings_page_renders_the_deleted_question_in_a_browser(demo_archive, browser, tmp_path):
    """Chromium renders the open-findings page with the deleted question's text and a link to
    the comment's own page; the screenshot is a real PNG."""
    from selenium.webdriver.common.by import By

    with served(ServeOptions(database=demo_archive)) as base:
        browser.get(f"{base}/{DATABASE_NAME}/open_findings")
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Open findings")
        body = browser.find_element(By.TAG_NAME, "body").text
        assert QUESTION in body
        assert "removed-critical" in body
        link = browser.find_element(By.LINK_TEXT, "1_2")
        assert link.get_attribute("href").endswith(f"/{DATABASE_NAME}/comments/1_2")
        target = README_SCREENSHOT if os.environ.get("COMMENT_GUARD_SCREENSHOT") else tmp_path / "serve.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(target))
    assert target.read_bytes().startswith(PNG_MAGIC)
