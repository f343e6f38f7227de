"""The built docs site in a real browser: Debian's chromium driven by Playwright, with no network.

The site is built from the project as it is (into a temporary folder), served on 127.0.0.1, and every page is
visited: no console errors, every image loaded, every internal link resolving, search working, a report page
showing its figures. Screenshots of the home page and a report page go to test-artifacts/."""
import functools, http.server, re, shutil, tempfile, threading
from pathlib import Path
from urllib.parse import urldefrag, urlsplit
import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it with apt-get where it can)"),
              pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications")]

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

def _report_for_the_site(settings, tmp:Path):
    "(reports folder, report name, why there is none): a report `reports/` holds, or one the runner makes now."
    if not settings.reports:
        return settings.reports_dir, None, "settings.ini has no [report NAME] section yet, so there is no report page to show"
    have = [n for n in settings.reports if (settings.reports_dir / f"{n}.ipynb").is_file()]
    if have: return settings.reports_dir, have[0], None
    from conftest import kuril
    # a report that records a finding, so that the Findings page has one to check
    name = "event_window" if "event_window" in settings.reports else next(iter(settings.reports))
    out = tmp / "reports"
    r = kuril("run", name, env={"KURIL_REPORTS_DIR": str(out)})
    if r.returncode != 0: return settings.reports_dir, None, f"reports/ holds no report and `kuril run {name}` failed: {r.stderr.strip()[-1500:]}"
    return out, name, None

@pytest.fixture(scope="module")
def site(tmp_path_factory, settings):
    "The project's site built into a temporary folder, served on localhost; (base URL, site folder, report, why none)."
    from kuril_research.site.sphinx import build_site
    tmp = tmp_path_factory.mktemp("site")
    reports_dir, report, why = _report_for_the_site(settings, tmp)
    r = build_site(settings.root, out=tmp / "_docs", stage=tmp / "_proc", reports_dir=reports_dir)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(r["out"])))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/", r["out"], report, why
    srv.shutdown()

@pytest.fixture(scope="module")
def browser_page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM,
                                                   args=ARGS, headless=True, viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        page.set_default_timeout(20000)
        yield page
        ctx.close()

_IMAGES = """async () => {
    const imgs = Array.from(document.images);
    for (const i of imgs) { i.loading = 'eager'; try { await i.decode(); } catch (e) {} }
    return imgs.map(i => [i.getAttribute('src'), i.naturalWidth]); }"""

async def _crawl(base:str, tabs:int=2) -> dict:
    "Visit every page reachable from the home page, a few tabs at a time; record what each one did."
    import asyncio
    from playwright.async_api import async_playwright
    log = {"errors": [], "offsite": [], "status": [], "images": {}, "links": {}, "ids": {}}
    async with async_playwright() as p:
        ctx = await p.chromium.launch_persistent_context(tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM,
                                                         args=ARGS, headless=True, viewport={"width": 1280, "height": 900})
        async def refuse(r): log["offsite"].append(r.request.url); await r.abort()
        await ctx.route(re.compile(rf"^(?!{re.escape(base)}|data:)"), refuse)  # anything not from the local server
        todo, seen = asyncio.Queue(), set()
        def add(url):
            if url not in seen: seen.add(url); todo.put_nowait(url)
        async def visit(page, url):
            resp = await page.goto(url, wait_until="load")
            if resp is None or not resp.ok: log["status"].append(f"{url}: {resp.status if resp else 'no response'}")
            log["images"][url] = await page.evaluate(_IMAGES)
            log["ids"][url] = set(await page.evaluate("Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.name)"))
            log["links"][url] = [h for h in await page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
                                 if h.startswith(base)]
            for h in log["links"][url]:
                target = urldefrag(h)[0]
                if target.endswith(".html") and "/_static/" not in target: add(target)
        async def worker():
            page, current = await ctx.new_page(), [None]
            page.on("console", lambda m: log["errors"].append(f"{current[0]}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: log["errors"].append(f"{current[0]}: {e}"))
            while True:
                current[0] = await todo.get()
                try: await visit(page, current[0])
                finally: todo.task_done()
        add(base + "index.html")
        workers = [asyncio.create_task(worker()) for _ in range(tabs)]
        await todo.join()
        for w in workers: w.cancel()
        await ctx.close()
    return log

@pytest.fixture(scope="module")
def crawl(site):
    "Every page reachable from the home page: console errors, unloaded images, links and anchors, network requests."
    import asyncio
    return asyncio.run(_crawl(site[0]))

def test_the_crawl_catches_what_it_checks(tmp_path):
    "A page that asks the network for an image, fails a script and links to a missing page: the crawl reports all three."
    (tmp_path / "index.html").write_text('<img src="https://example.org/x.png"><script>throw new Error("boom")</script>'
                                         '<a href="gone.html">gone</a>')
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    import asyncio
    try: log = asyncio.run(_crawl(f"http://127.0.0.1:{srv.server_address[1]}/"))
    finally: srv.shutdown()
    assert log["offsite"] == ["https://example.org/x.png"]
    assert any("boom" in e for e in log["errors"]) and any(s.endswith("gone.html: 404") for s in log["status"])
    assert [w for _, w in log["images"][next(iter(log["images"]))]] == [0]

def test_every_page_loads_without_console_errors(crawl):
    assert len(crawl["images"]) > 10, sorted(crawl["images"])
    assert crawl["status"] == [] and crawl["errors"] == []
    assert crawl["offsite"] == [], "the site asked the network for something"

def test_every_image_loaded(crawl):
    bad = [(url, src) for url, imgs in crawl["images"].items() for src, w in imgs if not w]
    assert bad == []

def test_every_internal_link_resolves(crawl, site):
    base, out, *_ = site
    broken = []
    for url, links in crawl["links"].items():
        for h in links:
            target, frag = urldefrag(h)
            path = urlsplit(target).path.lstrip("/")
            f = out / path if path and not path.endswith("/") else out / path / "index.html"
            if not f.is_file(): broken.append(f"{url} -> {h}: no such file")
            elif frag and target in crawl["ids"] and frag not in crawl["ids"][target]: broken.append(f"{url} -> {h}: no anchor")
    assert broken == []

def test_search_finds_shikotan(site, browser_page):
    from playwright.sync_api import expect
    base, *_ = site
    page = browser_page
    page.goto(base + "search.html?q=Shikotan", wait_until="load")
    page.wait_for_selector("#search-results ul.search li")
    hits = page.locator("#search-results ul.search li")
    assert hits.count() >= 1
    # Sphinx adds each hit's text excerpt after its title, one fetch at a time: wait for them (Playwright's retrying assertion)
    expect(page.locator("#search-results")).to_contain_text("Shikotan", timeout=15_000)

def test_home_page_screenshot(site, browser_page):
    base, *_ = site
    page = browser_page
    page.goto(base + "index.html", wait_until="load")
    assert page.locator("h1").first.inner_text().startswith("kuril-research")
    for nav in ("Findings", "Guides", "API", "Data reference", "Reports"): assert page.get_by_role("link", name=nav).first.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-home.png"))

def _report_of(site) -> tuple:
    "(base URL, report) of the site's report page; a failure when one should be there, a skip before there is a catalogue."
    base, _, report, why = site
    if report is None and not why.startswith("settings.ini"): pytest.fail(why)
    if report is None: pytest.skip(why + " (add the catalogue, then `make reports`)")
    return base, report


def test_report_page_shows_its_figures(site, browser_page):
    base, report = _report_of(site)
    page = browser_page
    page.goto(base + f"reports/{report}.html", wait_until="load")
    figures = page.evaluate("""async () => {
        const imgs = Array.from(document.querySelectorAll('article img'));
        for (const i of imgs) { i.loading = 'eager'; try { await i.decode(); } catch (e) {} }
        return imgs.map(i => i.naturalWidth); }""")
    assert figures and all(w > 0 for w in figures), figures
    page.locator("article img").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -200)")  # the heading above the figure too
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("site-report-*.png"): old.unlink()
    page.screenshot(path=str(ARTIFACTS / f"site-report-{report}.png"))


def test_report_tables_read_from_the_left(site, browser_page):
    "The runner's own page of a report (reports/standalone/) aligns its tables left, as the site does: JupyterLab's stylesheet would right-align every cell, sentences too."
    base, report = _report_of(site)
    page = browser_page
    page.goto(base + f"reports/standalone/{report}.html", wait_until="load")
    aligns = page.evaluate("() => Array.from(document.querySelectorAll('table.kuril-table td, table.kuril-table th')).map(c => getComputedStyle(c).textAlign)")
    assert aligns and set(aligns) == {"left"}, sorted(set(aligns))


def _plain(s:str) -> str:
    "Text as compared: whitespace collapsed, Sphinx's typographic quotes made plain."
    return " ".join(s.translate(str.maketrans("‘’“”", "''\"\"")).split())

def test_every_finding_links_to_its_report_with_the_same_numbers(site, browser_page, settings):
    "The Findings page: each finding links to an existing report page that shows the same answer, number and interval."
    from kuril_research.site.pages import report_finding
    base, out, report, why = site
    page = browser_page
    page.goto(base + "findings.html", wait_until="load")
    assert page.locator("h1").first.inner_text().startswith("Findings")
    blocks = page.locator("div.kuril-finding")
    names = [blocks.nth(i).get_attribute("data-report") for i in range(blocks.count())]
    rd = out.parent / "reports" if (out.parent / "reports").is_dir() else settings.reports_dir  # the folder the site was built from
    recorded = [n for n in settings.reports if (rd / f"{n}.ipynb").is_file() and report_finding(rd / f"{n}.ipynb")[0]]
    if report is not None and not recorded and not names: pytest.skip("no rendered report records a finding yet (run `kuril run event_window`)")
    assert set(recorded) <= set(names), (recorded, names)
    for i, n in enumerate(names):
        b = blocks.nth(i)
        number, answer = b.locator(".kuril-number").inner_text(), b.locator(".kuril-answer").inner_text()
        interval = b.locator(".kuril-interval").inner_text() if b.locator(".kuril-interval").count() else None
        link = page.locator(f'a[href="reports/{n}.html"]')
        assert link.count() >= 1, f"no link to reports/{n}.html"
        assert (out / "reports" / f"{n}.html").is_file()
        rp = page.context.new_page()
        try:
            rp.goto(base + f"reports/{n}.html", wait_until="load")
            shown = _plain(rp.locator("article").inner_text())
        finally:
            rp.close()
        for x in (number, answer, interval):
            if x: assert _plain(x) in shown, (n, x)
        if n in recorded:  # and the same as the executed report records
            f = report_finding(rd / f"{n}.ipynb")[0]
            assert (number, interval) == (f["number"], f["interval"]), n


def test_a_report_page_shows_no_empty_bands_for_hidden_code(tmp_path, browser_page):
    # with the code hidden (the default), a code cell without output takes no room; the switch shows it with its code
    from test_runner import make_project, run
    root = make_project(tmp_path, {"plain": "plain"})
    assert run(root).returncode == 0
    browser_page.goto((root / "reports" / "plain.html").as_uri())
    empty = browser_page.locator(".jp-CodeCell.jp-mod-noOutputs")
    assert empty.count() > 0, "the fixture report has code cells without output"
    boxes = lambda: [empty.nth(i).bounding_box() for i in range(empty.count())]
    assert boxes() == [None] * empty.count(), "hidden code leaves no band"
    browser_page.click("text=Show / hide code")
    assert all(b is not None and b["height"] > 10 for b in boxes()), "shown with its code"
