"""The web catalog in a real browser: Debian's Chromium, headless, driven by Playwright
(never a downloaded browser). A catalog is filled through boto3, then pages are opened,
links followed, the filter and the pages used, values checked against Describe answers,
hostile values checked not to run, accessibility basics measured. Every page visited is
saved as a screenshot under test-artifacts/web-catalog/.
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ROLE, create_image, create_version, wait_until
from web_support import PAYLOADS, store_hostile

pytestmark = pytest.mark.backends("sqlite")  # pages read through the catalog: in-process
# tests hold both backends to the same pages; here the browser is what is tested.

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-catalog"
NETWORK = {"VpcId": "vpc-0web", "SubnetIds": ["subnet-0web"]}

# Every element that shows text directly: its colour against the first opaque background
# behind it, as WCAG 2 computes contrast.
CONTRAST = """
() => {
  const channel = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const parse = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const worst = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null && el.tagName !== "BODY") continue;
    const fg = luminance(parse(getComputedStyle(el).color));
    const bg = luminance(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) worst.push([el.tagName, el.textContent.trim().slice(0, 40), ratio]);
  }
  return worst;
}
"""
# Headings in order, tables with header cells, links with text.
STRUCTURE = """
() => ({
  title: document.title,
  headings: [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")].map(h => Number(h.tagName[1])),
  headless_tables: [...document.querySelectorAll("table")].filter(t => !t.querySelector("th")).length,
  empty_links: [...document.querySelectorAll("a")].filter(a => !a.innerText.trim()).length,
  lang: document.documentElement.lang,
})
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: apt-get install chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


class Visitor:
    """A browser tab that fails the test on any console error or uncaught script error,
    and saves a screenshot of every page it checks."""

    def __init__(self, browser: Any, endpoint: str, name: str, **context: Any) -> None:
        self.context = browser.new_context(base_url=endpoint, **context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.name = name
        self.shots = 0
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))

    def open(self, url: str) -> Any:
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        return response

    def check(self) -> dict[str, Any]:
        """Accessibility basics of the page shown, and a screenshot of it."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        slug = re.sub(r"[^a-z0-9]+", "-", self.page.title().lower()).strip("-")
        self.page.screenshot(
            path=str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{slug}.png"), full_page=True
        )
        structure = self.page.evaluate(STRUCTURE)
        assert structure["title"].endswith("· sagemaker-images")
        assert structure["lang"] == "en"
        levels = structure["headings"]
        assert levels and levels[0] == 1, levels
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
        assert structure["headless_tables"] == 0
        assert structure["empty_links"] == 0
        assert self.page.evaluate(CONTRAST) == []
        assert self.errors == []
        return structure

    def cells(self, header: str) -> list[dict[str, str]]:
        """The rows of the table whose first header is `header`, as the browser shows them."""
        return self.page.evaluate(
            """header => {
              const table = [...document.querySelectorAll("table")]
                .find(t => t.querySelector("th") && t.querySelector("th").innerText.trim() === header);
              const heads = [...table.querySelectorAll("thead th")].map(th => th.innerText.trim());
              return [...table.querySelectorAll("tbody tr")].map(tr => Object.fromEntries(
                [...tr.querySelectorAll("td")].map((td, i) =>
                  [heads[i], td.innerText.replace(/\\s+/g, " ").trim()])));
            }""",
            header,
        )

    def close(self) -> None:
        assert self.errors == []
        self.context.close()


@pytest.fixture
def visitor(browser: Any, server: Any, request: pytest.FixtureRequest) -> Iterator[Visitor]:
    tab = Visitor(
        browser,
        server.endpoint,
        request.node.name.split("[")[0],
        permissions=["clipboard-read", "clipboard-write"],
    )
    yield tab
    tab.close()


def iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _fill(sm: Any) -> dict[str, Any]:
    """A small catalog: an image with two versions (one pinned to a digest, with aliases),
    an AppImageConfig, and a domain whose user profile attaches the image."""
    create_image(sm, "analytics", DisplayName="Analytics", Tags=[{"Key": "team", "Value": "ml"}])
    digest = "sha256:" + "0f1e" * 16
    create_version(
        sm,
        "analytics",
        base=f"registry.example/analytics@{digest}",
        Aliases=["stable"],
        JobType="INFERENCE",
        Processor="CPU",
        ReleaseNotes="Pinned by digest",
    )
    create_version(sm, "analytics", base="registry.example/analytics:2")
    sm.create_app_image_config(
        AppImageConfigName="analytics-kernels",
        KernelGatewayImageConfig={"KernelSpecs": [{"Name": "python3", "DisplayName": "Py 3"}]},
    )
    custom = {"ImageName": "analytics", "AppImageConfigName": "analytics-kernels"}
    domain = sm.create_domain(
        DomainName="research",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": ROLE},
        **NETWORK,
    )["DomainId"]
    wait_until(lambda: sm.describe_domain(DomainId=domain)["Status"] == "InService")
    sm.create_user_profile(
        DomainId=domain,
        UserProfileName="alice",
        UserSettings={
            "KernelGatewayAppSettings": {"CustomImages": [{**custom, "ImageVersionNumber": 1}]}
        },
    )
    return {"domain": domain, "digest": digest}


def test_a_user_browses_the_catalog(visitor, sm, region):
    filled = _fill(sm)
    page = visitor.page
    visitor.open("/")
    assert page.url.endswith("/ui/")
    visitor.open(f"/ui/?region={region}")
    visitor.check()
    described = sm.describe_image(ImageName="analytics")
    assert visitor.cells("Name") == [
        {
            "Name": "analytics",
            "Display name": "Analytics",
            "Status": "CREATED",
            "Versions": "2",
            "Latest version": "2",
            "Last modified": iso(described["LastModifiedTime"]),
            "Tags": "team = ml",
        }
    ]

    page.get_by_role("link", name="analytics", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "analytics"
    visitor.check()
    one = sm.describe_image_version(ImageName="analytics", Version=1)
    row = visitor.cells("Version")[1]
    assert (row["Version"], row["Aliases"], row["Job type"], row["Release notes"]) == (
        "1",
        "stable",
        "INFERENCE CPU",
        "Pinned by digest",
    )
    assert row["Image"] == f"…/analytics@sha256:{'0f1e' * 3}… Copy"
    # The copy button beside the short digest copies the whole reference.
    page.get_by_role("button", name=f"Copy {one['ContainerImage']}").click()
    assert page.evaluate("navigator.clipboard.readText()") == one["ContainerImage"]
    uses = visitor.cells("Attached by")
    assert uses == [
        {
            "Attached by": "User profile alice",
            "Settings": "UserSettings.KernelGatewayAppSettings",
            "Image": "analytics",
            "Version": "1",
            "AppImageConfig": "analytics-kernels",
        }
    ]

    page.get_by_role("link", name="1", exact=True).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "analytics version 1"
    assert one["ImageVersionArn"] in page.inner_text("main")
    visitor.check()
    page.go_back()

    page.get_by_role("link", name="User profile alice").click()
    assert page.url.endswith(f"/ui/domains/{filled['domain']}?region={region}#user-profile-alice")
    assert page.get_by_role("heading", level=1).inner_text() == "Domain research"
    profiles = visitor.cells("Name")
    assert profiles[0]["Name"] == "alice"
    assert "analytics version 1 with analytics-kernels" in profiles[0]["Custom images"]
    visitor.check()

    page.get_by_role("navigation", name="Sections").get_by_role(
        "link", name="AppImageConfigs"
    ).click()
    visitor.check()
    page.get_by_role("link", name="analytics-kernels").click()
    assert visitor.cells("Name") == [{"Name": "python3", "Display name": "Py 3"}]
    visitor.check()

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Domains").click()
    assert page.get_by_role("heading", level=2, name="research").is_visible()
    visitor.check()


# The image page at 1,280 px: whether its tables fit their boxes, whether an enumeration
# ever takes two lines, how often the region is shown.
FIT = """
region => ({
  overflowing: [...document.querySelectorAll(".scroll")].filter(d => d.scrollWidth > d.clientWidth).length,
  page_wider: document.documentElement.scrollWidth > document.documentElement.clientWidth,
  broken_enumerations: [...document.querySelectorAll(".enum, .status")]
    .filter(e => e.getClientRects().length > 1 || e.offsetHeight > 2 * parseFloat(getComputedStyle(e).fontSize) * 1.2)
    .map(e => e.innerText),
  region_shown: document.querySelector("header").innerText.split(region).length - 1,
})
"""


def test_the_image_page_fits_a_1280_px_window(browser, server, sm, region):
    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ml/data-science-gpu-runtime"
    create_image(sm, "wide", DisplayName="A team's GPU runtime")
    for n in range(1, 4):
        create_version(
            sm,
            "wide",
            base=f"{ecr}:2026.12.0{n}-cuda12.4-py311" if n != 2 else f"{ecr}@sha256:{'0f1e' * 16}",
            JobType="NOTEBOOK_KERNEL",
            Processor="GPU",
            MLFramework="PyTorch 2.5",
            ProgrammingLang="Python 3.11",
            VendorGuidance="NOT_PROVIDED",
            ReleaseNotes="Adds CUDA 12.4 and PyTorch 2.5, removes the TensorFlow 1.x kernels; the"
            " changelog lists every package upgraded in this release.",
            Aliases=[f"v{n}"],
        )
    tab = Visitor(browser, server.endpoint, "fit", viewport={"width": 1280, "height": 900})
    try:
        tab.open(f"/ui/images/wide?region={region}")
        tab.check()
        fit = tab.page.evaluate(FIT, region)
        assert fit == {
            "overflowing": 0,
            "page_wider": False,
            "broken_enumerations": [],
            "region_shown": 1,
        }
        # The tag, which tells versions apart, is what shows of a long reference.
        shown = tab.page.locator("code.ref.tail").first
        assert shown.get_attribute("title") == f"{ecr}:2026.12.03-cuda12.4-py311"
        tab.open(f"/ui/images?q=no%20such!&region={region}")  # a filter the API refuses
        assert tab.page.get_by_role("heading", level=1).inner_text() == "Bad request"
        assert tab.page.get_by_label("Image name contains").input_value() == "no such!"
        assert tab.page.get_by_role("search").is_visible()
        assert tab.page.get_by_role("link", name="Domains").is_visible()
        assert tab.errors == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
        tab.errors.clear()  # the page's own 400, as asked
    finally:
        tab.close()


def test_the_filter_the_sort_and_the_pages(visitor, sm, region):
    for index in range(52):
        sm.create_image(ImageName=f"nb-{index:02d}", RoleArn=ROLE)
    sm.create_image(ImageName="training", RoleArn=ROLE)
    page = visitor.page
    visitor.open(f"/ui/?region={region}")
    page.get_by_label("Image name contains").fill("NB-")
    page.get_by_label("Sort by").select_option("name")
    page.get_by_label("Order").select_option("asc")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("load")
    names = [row["Name"] for row in visitor.cells("Name")]
    assert names == [f"nb-{index:02d}" for index in range(50)]
    assert page.get_by_label("Image name contains").input_value() == "NB-"
    visitor.check()
    page.get_by_role("link", name="Next page").click()
    assert [row["Name"] for row in visitor.cells("Name")] == ["nb-50", "nb-51"]
    assert page.get_by_role("link", name="Next page").count() == 0
    page.get_by_role("link", name="First page").click()
    assert visitor.cells("Name")[0]["Name"] == "nb-00"
    visitor.check()


def test_hostile_values_are_shown_as_text_and_never_run(visitor, sm, region):
    page = visitor.page
    for index, payload in enumerate(PAYLOADS):
        for path in store_hostile(sm, f"hostile-{index}", payload):
            visitor.open(f"{path}?region={region}")
            assert page.evaluate("window.pwned") is None
            assert page.locator('img[src="x"]').count() == 0
            assert payload.strip() in page.inner_text("main")
        visitor.check()
    assert visitor.errors == []


def test_pages_work_without_javascript(browser, server, sm, region):
    create_image(sm, "plain")
    create_version(sm, "plain", base="registry.example/plain:1")
    tab = Visitor(browser, server.endpoint, "no-script", java_script_enabled=False)
    try:
        tab.open(f"/ui/?region={region}")
        tab.page.get_by_label("Image name contains").fill("pla")
        tab.page.get_by_role("button", name="Apply").click()
        tab.page.get_by_role("link", name="plain", exact=True).click()
        assert tab.page.get_by_role("heading", level=1).inner_text() == "plain"
        # Without script a copy button cannot copy: it stays hidden.
        assert tab.page.locator("button.copy").first.is_hidden()
        tab.check()
    finally:
        tab.close()
