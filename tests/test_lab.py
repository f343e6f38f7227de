"""JupyterLab, where researchers work, in a real browser: Debian's chromium driven by Playwright, with no network.

`jupyter lab` is started on a free localhost port with a token, its root at nbs/, with the lab settings `make env`
writes into the environment (tools/lab_settings.py; here into a temporary prefix, with the person's own Jupyter
folders replaced by empty ones). A library notebook and an analysis notebook are opened: no "Select Kernel" dialog,
"Run All Cells" finishes with no error output, the analysis shows its figures. Every request that leaves the machine
is refused and counted, every console error is recorded: both must be zero. Screenshots go to test-artifacts/."""
import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BIN = Path(sys.executable).parent
KERNEL = "kuril-research"
LIBRARY, ANALYSIS = "20_params.ipynb", "analyses/trade_overview.ipynb"
RUN_TIMEOUT = 90  # seconds for "Run All Cells" on one notebook; a hang fails the test rather than stalling make test

sys.path.insert(0, str(ROOT / "tools"))
import lab_settings  # noqa: E402
from notebook_runs import papermill, pngs  # noqa: E402

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it with apt-get where it can)")


def test_lab_settings_are_idempotent_and_quiet(tmp_path):
    "The settings `make env` writes: a second run changes nothing; news, update check and extension manager are off."
    assert len(lab_settings.write(tmp_path)) == 3
    assert lab_settings.write(tmp_path) == []
    page = json.loads((tmp_path / "share/jupyter/lab/settings/page_config.json").read_text())
    assert "@jupyterlab/apputils-extension:announcements" in page["disabledExtensions"]
    server = json.loads((tmp_path / "etc/jupyter/jupyter_server_config.json").read_text())
    assert server["LabApp"]["news_url"] is None and server["MultiKernelManager"]["default_kernel_name"] == KERNEL


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    "A running `jupyter lab` on nbs/ with the environment's lab settings and no personal settings; its base URL and token."
    from jupyter_client.kernelspec import KernelSpecManager
    if KERNEL not in KernelSpecManager().find_kernel_specs():
        pytest.fail(f"the kernel {KERNEL!r} is not registered (make env registers it)")
    tmp = tmp_path_factory.mktemp("lab")
    prefix = tmp / "prefix"
    lab_settings.write(prefix)
    # the test runs notebooks but must not write them back: the person-level setting "autosave" is off here
    docmanager = tmp / "user-settings" / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docmanager.parent.mkdir(parents=True)
    docmanager.write_text(json.dumps({"autosave": False}))
    port, token = _free_port(), os.urandom(16).hex()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_CONFIG_PATH": str(prefix / "etc/jupyter"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_DATA_DIR": str(tmp / "data"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "user-settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)}
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                             f"--ServerApp.root_dir={ROOT / 'nbs'}",
                             f"--LabApp.app_settings_dir={prefix / 'share/jupyter/lab/settings'}",
                             *(["--allow-root"] if os.geteuid() == 0 else [])],
                            cwd=ROOT / "nbs", env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    for _ in range(600):  # until the server answers (or dies)
        if proc.poll() is not None: break
        try:
            urllib.request.urlopen(f"{base}api/status?token={token}", timeout=1)
            break
        except OSError: time.sleep(0.1)
    if proc.poll() is not None: pytest.fail(f"jupyter lab exited: {(tmp / 'lab.log').read_text()[-2000:]}")
    yield base, token, tmp / "lab.log"
    proc.terminate()
    try: proc.wait(15)
    except subprocess.TimeoutExpired: proc.kill(); proc.wait()
    log.close()


@pytest.fixture(scope="module")
def browser(lab):
    "One chromium page on the lab; every request not to the lab's own server refused and counted, console errors kept."
    from playwright.sync_api import sync_playwright
    base, token, _ = lab
    seen = {"offsite": [], "errors": []}
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM,
                                                   args=ARGS, headless=True, viewport={"width": 1400, "height": 1000})
        def refuse(route): seen["offsite"].append(route.request.url); route.abort()
        ctx.route(re.compile(rf"^(?!{re.escape(base)}|data:|blob:)"), refuse)
        page = ctx.new_page()
        page.on("console", lambda m: seen["errors"].append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
        page.set_default_timeout(30000)
        yield page, seen
        ctx.close()


_STATE = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return null;
    const cells = Array.from(panel.querySelectorAll('.jp-Cell.jp-CodeCell'));
    const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '');
    const empty = cells.map(c => !(c.querySelector('.jp-InputArea-editor .cm-content') || {}).textContent.trim());
    return {cells: cells.length,
            running: prompts.filter(p => p.includes('*')).length,
            unrun: prompts.filter((p, i) => !/\\[\\d+\\]/.test(p) && !empty[i]).length,
            stderr: Array.from(panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                         .map(o => o.textContent.slice(0, 500)),
            images: Array.from(panel.querySelectorAll('.jp-OutputArea-output img')).map(i => i.naturalWidth),
            kernel: (document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-KernelName') || {}).textContent || ''};
}"""


# one screen at a time (the windowed notebook attaches the cells in view and a margin around them), two frames for the lab
# to attach and paint; each figure counted once, by its data URI, with its decoded width
_SCROLLED_IMAGES = """async () => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const scroller = panel.querySelector('.jp-WindowedPanel-outer') || panel.querySelector('.jp-Notebook');
    const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const seen = new Map();
    for (let y = 0; y <= scroller.scrollHeight; y += scroller.clientHeight) {
        scroller.scrollTop = y;
        await frames();
        for (const i of panel.querySelectorAll('.jp-OutputArea-output img')) {
            if (seen.get(i.src) > 0) continue;
            try { await i.decode(); } catch (e) {}
            seen.set(i.src, i.naturalWidth);
        }
    }
    scroller.scrollTop = 0;
    return Array.from(seen.values());
}"""


def _open_and_run(page, lab, path:str, shot:str) -> dict:
    "Open `path` (relative to nbs/) in the lab, Run All Cells, wait until every cell ran; the notebook's state."
    base, token, _ = lab
    page.goto(f"{base}lab/tree/{path}?token={token}&reset", wait_until="load")
    n = len(json.loads((ROOT / "nbs" / path).read_text(encoding="utf-8"))["cells"])
    # every cell shown, and the kernel the notebook names started by itself: the status bar reads
    # "Python (kuril-research) | Idle" (while the lab has no kernel it reads "No Kernel | Initializing")
    page.wait_for_function(f"() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length === {n}",
                           timeout=90000)
    page.wait_for_function("() => document.querySelector('.jp-Dialog') || /kuril-research\\)\\s*\\|\\s*Idle/.test("
                           "document.querySelector('#jp-main-statusbar')?.textContent || '')", timeout=90000)
    page.wait_for_timeout(1000)  # a dialog the lab would open now has had time to show
    dialogs = page.locator(".jp-Dialog").all_inner_texts()
    assert not any("Select Kernel" in d for d in dialogs), dialogs
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        st = page.evaluate(_STATE)
        if st and st["running"] == 0 and (st["unrun"] == 0 or st["stderr"]): break  # done, or stopped at an error
        if time.monotonic() > deadline: break
        time.sleep(0.5)
    page.wait_for_timeout(500)  # let the last outputs paint
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=False)
    st = page.evaluate(_STATE)
    st["dialogs"] = page.locator(".jp-Dialog").all_inner_texts()
    return st


def _check_ran(st:dict, path:str):
    assert st["cells"] > 0, f"{path}: no code cells shown"
    assert st["stderr"] == [], f"{path}: error output: {st['stderr']}"
    assert st["running"] == 0 and st["unrun"] == 0, f"{path}: Run All Cells did not finish in {RUN_TIMEOUT}s: {st}"
    assert not any("Select Kernel" in d for d in st["dialogs"]), st["dialogs"]
    assert "kuril-research" in st["kernel"], f"{path}: kernel shown is {st['kernel']!r}"


def test_lab_page_config_has_no_news_and_no_extension_manager(lab, browser):
    "The page JupyterLab serves carries the environment's settings: announcements and extension manager disabled."
    page, _ = browser
    base, token, _ = lab
    page.goto(f"{base}lab?token={token}&reset", wait_until="load")
    cfg = json.loads(page.locator("#jupyter-config-data").text_content())
    disabled = cfg.get("disabledExtensions", [])
    assert "@jupyterlab/apputils-extension:announcements" in disabled, disabled
    assert "@jupyterlab/extensionmanager-extension:plugin" in disabled, disabled
    assert cfg.get("news", {}).get("disabled") is True, cfg.get("news")


def test_library_notebook_runs_in_the_project_kernel(lab, browser):
    page, _ = browser
    st = _open_and_run(page, lab, LIBRARY, "lab-library-20_params.png")
    _check_ran(st, LIBRARY)


def test_analysis_runs_and_shows_its_figures(lab, browser, tmp_path):
    page, _ = browser
    st = _open_and_run(page, lab, ANALYSIS, "lab-analysis-trade_overview.png")
    _check_ran(st, ANALYSIS)
    # the lab attaches only the cells near the viewport (its windowed notebook), so the figures below the first screen
    # are looked at by scrolling through the notebook
    images = page.evaluate(_SCROLLED_IMAGES)
    assert images and all(w > 0 for w in images), f"{ANALYSIS}: figures {images}"
    p, nb = papermill(Path(ANALYSIS).stem, tmp_path / "out.ipynb")  # the same notebook outside the lab: the figures it makes
    assert p.returncode == 0, p.stderr[-2000:]
    assert len(images) == pngs(nb), f"{ANALYSIS}: the lab showed {len(images)} figures, papermill's run made {pngs(nb)}"
    # a second screenshot at the first figure, so that the artifact shows one
    for _ in range(2):  # the lab paints cells as they scroll into view, which moves the figure: aim twice
        page.evaluate("document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')"
                      ".scrollIntoView({block: 'center'})")
        page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "lab-analysis-trade_overview-figure.png"))


def test_no_console_error_and_no_request_left_the_machine(browser):
    "Last: over everything above, the browser logged no console error and asked nothing of the network."
    _, seen = browser
    print(f"off-site requests: {len(seen['offsite'])}; console errors: {len(seen['errors'])}")
    assert seen["errors"] == [], seen["errors"]
    assert seen["offsite"] == [], f"{len(seen['offsite'])} off-site request(s): {seen['offsite']}"
