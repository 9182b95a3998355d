"""The analytics pages in a real headless browser (Debian's chromium and chromedriver): `make demo`'s
class played into the local stack, the pages opened through their view links, what is drawn checked,
and screenshots saved for the README (docs/screenshots)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from local.demo import LECTURE, LECTURES, Demo, picker_url, populate, stock_catalog, wait_for_insights
from local.player import Bridge
from local.template import ROOT
from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.stack

SCREENSHOTS = ROOT / "docs" / "screenshots"


def executable(name: str) -> str:
    found = shutil.which(name)
    if found is None:  # `make test` installs them; a machine without them must not pass quietly
        pytest.fail(f"{name} not found: the browser tests need Debian's chromium and chromium-driver")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = executable("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=820,1600",
                     "--force-device-scale-factor=1", "--lang=en-US"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


def problems(driver: webdriver.Chrome, elsewhere: str | None = None) -> list[str]:
    """What the page's console reported at warning level or above (a CSP violation is an error), but
    for the pages of `elsewhere` (an origin: the LMS's own pages on the way to ours)."""
    entries = driver.get_log("browser")  # type: ignore[no-untyped-call]
    found = [entry["message"] for entry in entries if entry["level"] in {"SEVERE", "WARNING"}]
    return [message for message in found if not (elsewhere and message.startswith(elsewhere + "/"))]


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """The whole page, at its own height."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    metrics = {"width": 820, "height": 100, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # a short viewport: the content's own height
    height = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": int(height) + 16})
    try:
        assert driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


@pytest.fixture(scope="module")
def played(stack: RunningStack) -> tuple[Bridge, Demo]:
    """`make demo`'s class (60 learners in a course of three lectures), played into the stack once for
    the module's tests."""
    bridge = Bridge(stack.url)
    return bridge, populate(bridge)


def test_the_pages_draw_the_class(played: tuple[Bridge, Demo], browser: webdriver.Chrome) -> None:
    bridge, demo = played
    insights = wait_for_insights(bridge)
    counted, blocks = insights["learners_counted"], LECTURE.block_count
    assert demo.learners >= 60 and len(LECTURES) >= 3
    assert counted >= 50 and insights["not_started"] >= 3  # three enrolled learners never start
    hard, known = insights["hard_parts"], insights["skipped_parts"]  # the class's replayed and skipped parts
    assert hard and known and hard != known

    browser.get(demo.links["instructor"] + "?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Lecture insights: {LECTURE.media_content_key}"
    cells = browser.find_elements(By.CSS_SELECTOR, "svg rect.cell")
    assert len(cells) == 2 * blocks and all(cell.is_displayed() for cell in cells)
    coverage = [int(cell.get_attribute("data-value") or 0) for cell in cells[:blocks]]
    assert coverage == insights["coverage"]
    assert len({cell.get_attribute("fill") for cell in cells[:blocks]}) > 1  # the shades tell blocks apart
    assert browser.find_element(By.CSS_SELECTOR, "polyline.reach").is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, "rect.bar")) == 7  # not started, started ... completed
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.learner")
    started = [row for row in rows if row.find_elements(By.CSS_SELECTOR, "rect.tier")]
    assert len(rows) == 50 and len(started) >= 45  # the first page of the 60
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.learner rect.tier")) == blocks * len(started)
    assert "Parts learners replay" in browser.page_source and "Parts learners skip" in browser.page_source
    assert "50 of 60 learners." in browser.find_element(By.CSS_SELECTOR, "p.pages").text
    assert problems(browser) == []
    screenshot(browser, "instructor")
    browser.find_element(By.LINK_TEXT, "Next page").click()  # the rest of the class, the same signed link
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.learner")) == 10
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Lecture insights: {LECTURE.media_content_key}"
    assert browser.find_elements(By.LINK_TEXT, "First page") and not browser.find_elements(By.LINK_TEXT, "Next page")
    assert problems(browser) == []
    browser.find_element(By.LINK_TEXT, "Progress").click()  # sorted within the same signed link
    progress = [float(row.find_elements(By.TAG_NAME, "td")[2].text.rstrip("%"))
                for row in browser.find_elements(By.CSS_SELECTOR, "tr.learner")]  # fmt: skip
    assert len(progress) == 50 and progress == sorted(progress, reverse=True) and progress[0] > progress[-1]
    assert "50 of 60 learners." in browser.find_element(By.CSS_SELECTOR, "p.pages").text  # the funnel's snapshot
    assert problems(browser) == []

    browser.get(demo.links["learner"] + "?lang=en")
    assert browser.find_elements(By.CSS_SELECTOR, "svg rect.tier")  # the learner's own strip and the legend
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg rect.share")) == blocks  # the class's, 5+ learners
    assert "Still to watch" in browser.page_source or "Nothing left" in browser.page_source
    assert problems(browser) == []
    screenshot(browser, "learner")

    browser.get(demo.links["lectures"] + "?lang=en")  # the learner's list: each lecture links its page
    browser.find_element(By.LINK_TEXT, LECTURE.media_content_key).click()
    assert browser.find_element(By.TAG_NAME, "h1").text == LECTURE.media_content_key
    assert browser.find_elements(By.CSS_SELECTOR, "svg rect.tier") and problems(browser) == []

    browser.get(demo.links["learner"] + "?lang=ko")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ko"


def course_computed(browser: webdriver.Chrome, link: str, timeout: float = 90.0) -> list[list[str]]:
    """The course page's lecture rows once every lecture's insights are computed (the page asks for
    them; the stream computes them)."""
    deadline = time.monotonic() + timeout
    while True:
        browser.get(link)
        rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in browser.find_elements(By.CSS_SELECTOR, "tr.lecture")]  # fmt: skip
        if rows and all(row[2] != "computing" for row in rows):
            return rows
        if time.monotonic() > deadline:
            pytest.fail(f"the course's lectures were still being computed after {timeout:g} s: {rows}")
        time.sleep(1)


def test_the_course_page_lists_its_lectures_in_order(played: tuple[Bridge, Demo], browser: webdriver.Chrome) -> None:
    bridge, demo = played
    insights = wait_for_insights(bridge)
    rows = course_computed(browser, demo.links["course"] + "?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Course: Demo course"
    assert [row[1] for row in rows] == [content.media_content_key for content in LECTURES]
    first = rows[0]
    assert int(first[2]) == insights["funnel"]["started"]
    assert first[3].startswith(str(insights["funnel"]["completed"]))
    started = [int(row[2]) for row in rows]
    assert started == sorted(started, reverse=True) and started[0] > started[-1]  # each reached by fewer
    days = browser.find_elements(By.CSS_SELECTOR, "svg g.day")
    assert len(days) == 30
    today = [
        int(bar.get_attribute("data-value") or 0) for bar in days[-1].find_elements(By.CSS_SELECTOR, "rect.active")
    ]
    assert today and 0 < today[0] <= demo.learners  # each learner counted once however many lectures
    assert problems(browser) == []
    screenshot(browser, "course")
    browser.find_element(By.LINK_TEXT, LECTURE.media_content_key).click()  # the lecture's own page
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Lecture insights: {LECTURE.media_content_key}"
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg g.day")) == 30 and problems(browser) == []


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: Every page kind a view link opens, by the demo's link names.
PAGES = ("course", "instructor", "learner", "lectures")
#: axe-core's findings that fail a page.
BLOCKING = {"serious", "critical"}


def accessibility_violations(driver: webdriver.Chrome) -> list[dict[str, object]]:
    """axe-core run in the page as loaded (injected by the driver: the page's own policy runs no script)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} not found: run `npm ci` (make setup installs axe-core)")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, object]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(result => done(result.violations.map(v => "
        "({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))));"
    )
    return found


#: The page's scrolling width beside the window's.
WIDTHS = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def fits_and_passes_axe(
    browser: webdriver.Chrome, page: str, lang: str, width: int, elsewhere: str | None = None
) -> None:
    """The page as loaded: in its language, no sideways scroll, no serious or critical axe finding, a
    quiet console."""
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    sizes = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert sizes[0] <= sizes[1], f"{page} at {width} px scrolls sideways: {sizes}"
    blocking = [found for found in accessibility_violations(browser) if found["impact"] in BLOCKING]
    assert blocking == [], f"{page} ({lang}, {width} px)"
    assert problems(browser, elsewhere) == []


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_page_fits_a_phone_and_a_desk_and_passes_axe(
    played: tuple[Bridge, Demo], browser: webdriver.Chrome, width: int, lang: str
) -> None:
    bridge, made = played
    wait_for_insights(bridge)
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        for page in PAGES:
            browser.get(f"{made.links[page]}?lang={lang}")
            fits_and_passes_axe(browser, page, lang, width)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture(scope="module")
def catalog(stack: RunningStack) -> list[dict[str, Any]]:
    """`make demo`'s catalog: its videos uploaded through the stand-in Kollus and ready."""
    return stock_catalog(Bridge(stack.url))


def open_picker(browser: webdriver.Chrome, stack: RunningStack, locale: str) -> str:
    """The local LMS's deep linking as an instructor (its launch form posts itself to the tool); the
    LMS's origin."""
    platform = f"http://127.0.0.1:{stack.environment['LTI_PLATFORM_PORT']}"
    browser.get(picker_url(platform).replace("ko-KR", locale))
    deadline = time.monotonic() + 30
    while not browser.find_elements(By.CSS_SELECTOR, "ul.picks, form.search"):
        if time.monotonic() > deadline:
            pytest.fail(f"the picker did not open: {browser.current_url}")
        time.sleep(0.2)
    return platform


def test_the_picker_shows_the_catalog_with_posters_and_searches(
    catalog: list[dict[str, Any]], stack: RunningStack, browser: webdriver.Chrome
) -> None:
    platform = open_picker(browser, stack, "ko-KR")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Kollus 동영상 선택"
    titles = [item.text for item in browser.find_elements(By.CSS_SELECTOR, "ul.picks .t")]
    assert sorted(titles) == sorted(item["title"] for item in catalog)
    posters = browser.find_elements(By.CSS_SELECTOR, "ul.picks img")
    assert len(posters) == len(catalog)
    assert all(browser.execute_script("return arguments[0].naturalWidth", poster) > 0 for poster in posters)
    assert problems(browser, platform) == []  # the posters' origin is the one the policy names
    screenshot(browser, "picker")
    search = browser.find_element(By.NAME, "q")
    search.send_keys("재귀")
    search.submit()  # a plain GET form, no script
    assert [item.text for item in browser.find_elements(By.CSS_SELECTOR, "ul.picks .t")] == ["2주차: 재귀와 분할 정복"]
    browser.find_element(By.CSS_SELECTOR, "ul.picks input[type=checkbox]").click()
    browser.find_element(By.CSS_SELECTOR, "form[method=post] button[type=submit]").click()
    assert "동영상 1개를 골랐습니다." in browser.page_source  # the signed response, ready to go back
    browser.find_element(By.TAG_NAME, "button").click()
    deadline = time.monotonic() + 10
    while "content_items" not in browser.page_source and time.monotonic() < deadline:
        time.sleep(0.2)
    taken = json.loads(browser.find_element(By.TAG_NAME, "pre").text)["content_items"]  # the platform took it
    assert [item["title"] for item in taken] == ["2주차: 재귀와 분할 정복"]


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_the_picker_fits_a_phone_and_a_desk_and_passes_axe(
    catalog: list[dict[str, Any]], stack: RunningStack, browser: webdriver.Chrome, width: int, locale: str
) -> None:
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        platform = open_picker(browser, stack, locale)
        fits_and_passes_axe(browser, "the picker", locale[:2], width, elsewhere=platform)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
