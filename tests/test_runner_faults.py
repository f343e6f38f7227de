"`kuril run` faults and bad input: failing, hung and dying reports, interrupted runs, one-line errors."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import BIN, kuril
from test_runner import make_project, manifest, outputs, ran, run


def test_failure_keeps_last_good_page(tmp_path):
    root = make_project(tmp_path, {"flaky": "plain", "plain": ("plain", {"label": "another label"})})  # one notebook, two sets of values
    assert run(root).returncode == 0
    rd = root / "reports"
    good = (rd / "flaky.html").read_bytes()
    settings = root / "settings.ini"
    settings.write_text(settings.read_text().replace("notebook = analyses/plain.ipynb\n", "notebook = analyses/raises.ipynb\n", 1))
    r = run(root)
    assert r.returncode == 1, "a failed report makes the exit status non-zero"
    assert (rd / "flaky.html").read_bytes() == good, "the last good page is not overwritten"
    failed = (rd / "flaky.failed.html").read_text()
    assert "This report failed" in failed and "cell 2" in failed and "planted failure in the third cell" in failed
    assert "Traceback" in failed or "ValueError" in failed
    rec = manifest(root)["reports"]["flaky"]
    assert rec["status"] == "error" and rec["stale"] is True and "cell 2: ValueError" in rec["error"]
    index = (rd / "index.html").read_text()
    assert "stale" in index and 'href="flaky.failed.html"' in index and 'href="flaky.html"' in index
    assert '<span class="failed">error</span> <span class="stale">' in index and '<span class="ok">ok</span>' in index, "each row shows its own status"
    assert manifest(root)["reports"]["plain"]["status"] == "ok"
    listed = kuril("--settings", str(settings), "list", "--json")
    rows = {x["name"]: x for x in json.loads(listed.stdout)}
    assert rows["flaky"]["status"] == "error" and rows["flaky"]["stale"] and rows["plain"]["last_run"]
    table = kuril("--settings", str(settings), "list")
    assert table.returncode == 0 and "error (stale page kept)" in table.stdout and "analyses/raises.ipynb" in table.stdout

    settings.write_text(settings.read_text().replace("analyses/raises.ipynb", "analyses/plain.ipynb"))
    fixed = run(root)
    assert fixed.returncode == 0 and ran(fixed.stdout) == ["flaky"], "a failed report runs again"
    assert not (rd / "flaky.failed.html").exists() and manifest(root)["reports"]["flaky"]["status"] == "ok"


def test_timeout_and_dead_kernel_do_not_stop_others(tmp_path):
    root = make_project(tmp_path, {"hangs": "hangs", "dies": "dies", "plain": "plain"})
    r = run(root, "--timeout", "3", "-j", "2")
    assert r.returncode == 1
    st = {n: rec["status"] for n, rec in manifest(root)["reports"].items()}
    assert st == {"hangs": "timeout", "dies": "kernel-died", "plain": "ok"}, st
    dies = (root / "reports" / "dies.failed.html").read_text()
    assert "DeadKernelError" in dies and "kernel died" in dies
    hangs = (root / "reports" / "hangs.failed.html").read_text()
    assert "did not finish within 3 s" in hangs
    assert "about to exit" in (root / "reports" / "dies.failed.ipynb").read_text(), "output before the death is kept"


def test_kernel_start_is_retried_once(monkeypatch):
    from kuril_research.runner import executors
    import nbformat
    nb = nbformat.read(Path(__file__).parent / "fixtures" / "analyses" / "sets_global.ipynb", as_version=4)
    real, calls = executors.WarmKernel.start, []
    async def flaky(self):
        calls.append(1)
        if len(calls) == 1: raise RuntimeError("simulated start failure")
        return await real(self)
    monkeypatch.setattr(executors.WarmKernel, "start", flaky)
    executors.stop_kernels(); executors._LOCAL.__dict__.clear()
    try:
        r = executors.run_notebook(nb, str(Path(__file__).parent / "fixtures" / "analyses"), {}, 30)
        assert r.status == "ok" and len(calls) == 2
        async def broken(self): raise RuntimeError("simulated start failure")
        monkeypatch.setattr(executors.WarmKernel, "start", broken)
        executors.stop_kernels()
        r = executors.run_notebook(nb, "/", {}, 30)
        assert r.status == "kernel-failed-to-start" and "did not start, twice" in r.failure.evalue
    finally:
        executors.stop_kernels(); executors._LOCAL.__dict__.clear()


def _wait_for(pred, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if pred(): return True
        time.sleep(0.2)
    return False


def _recorded(root, name):
    try: return name in manifest(root)["reports"]
    except (OSError, ValueError): return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_batch_leaves_whole_files_and_resumes(tmp_path, sig):
    root = make_project(tmp_path, {"plain": "plain", "hangs": "hangs", "reads_trade": "reads_trade"})
    p = subprocess.Popen([str(BIN / "kuril"), "--settings", str(root / "settings.ini"), "run", "-j", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: _recorded(root, "plain")), "the first report finished"
        time.sleep(1)
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == (-9 if sig == signal.SIGKILL else 130), err
    rd = root / "reports"
    m = manifest(root)
    assert set(m["reports"]) == {"plain"}, "the manifest holds what finished, whole"
    for page in rd.glob("*.html"): assert page.read_text().rstrip().endswith("</html>"), page.name
    assert not (rd / "hangs.html").exists()
    settings = root / "settings.ini"
    settings.write_text(settings.read_text().replace("analyses/hangs.ipynb", "analyses/text_param.ipynb"))
    dry = run(root, "--dry-run").stdout
    again = run(root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert ran(again.stdout) == ["hangs", "reads_trade"], "the next run resumes: what finished is a cache hit\n" + dry
    assert not list(rd.glob(".*.tmp")), "temporary files of the killed run are swept"


def _one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kuril: error: "), r.stderr
    for n in needles: assert n in lines[0], (n, lines[0])


@pytest.fixture(scope="module")
def ran_once(tmp_path_factory):
    "A project whose catalogue ran once, so that 'nothing overwritten' can be checked (shared: bad input changes nothing)."
    root = make_project(tmp_path_factory.mktemp("bad"), {"plain": "plain", "text_param": "text_param"})
    assert run(root, "plain").returncode == 0
    return root, outputs(root)


BAD_RUNS = {
    "unknown report": (["nope"], ["unknown report 'nope'", "plain"]),
    "escaping name": (["../x"], ["unknown report '../x'"]),
    "absolute name": (["/etc/passwd"], ["unknown report '/etc/passwd'"]),
    "unknown parameter": (["-p", "colour=red"], ["-p colour", "start_year"]),
    "wrong type": (["plain", "-p", "start_year=abc"], ["start_year = 'abc'", "expected int"]),
    "not name=value": (["-p", "start_year"], ["expected name=value"]),
    "bad jobs": (["-j", "0"], ["--jobs 0"]),
    "bad timeout": (["--timeout", "-1"], ["--timeout -1"]),
    "unknown executor": (["--executor", "slurm"], ["--executor slurm", "local, dask"]),
    "dead scheduler": (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], ["--scheduler tcp://127.0.0.1:9", "no Dask scheduler answers"]),
}

@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_one_line_nothing_overwritten(ran_once, case):
    root, before = ran_once
    args, needles = BAD_RUNS[case]
    _one_line_error(run(root, "--force", *args), *needles)
    assert outputs(root) == before


def test_bad_catalogue_sections(tmp_path):
    root = make_project(tmp_path, {"plain": "plain"})
    settings = root / "settings.ini"
    good = settings.read_text()
    settings.write_text(good + "\n[report orphan]\nlabel = x\n")
    _one_line_error(run(root), "[report orphan] notebook: missing")
    settings.write_text(good + "\n[report gone]\nnotebook = analyses/gone.ipynb\n")
    _one_line_error(run(root), "[report gone] notebook = gone.ipynb")
    settings.write_text(good + "\n[report typo]\nnotebook = analyses/plain.ipynb\ncolour = red\n")
    _one_line_error(run(root), "settings [report typo] colour: the notebook declares no such parameter")
    settings.write_text(good + "\n[report ../x]\nnotebook = analyses/plain.ipynb\n")
    _one_line_error(run(root), "report name '../x'")
    assert not (root / "reports").exists(), "nothing was written"


def test_unwritable_reports_folder(tmp_path):
    root = make_project(tmp_path, {"plain": "plain"})
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    _one_line_error(run(root, env={"KURIL_REPORTS_DIR": str(blocker / "reports")}), "reports folder", "cannot be written")
    _one_line_error(run(root, env={"KURIL_REPORTS_DIR": str(blocker)}), "reports folder", "cannot be written")
    assert blocker.read_text() == "not a folder"


def test_broken_manifest_is_not_overwritten(tmp_path):
    root = make_project(tmp_path, {"plain": "plain"})
    (root / "reports").mkdir()
    m = root / "reports" / "manifest.json"
    m.write_text("{cut short")
    _one_line_error(run(root), "manifest.json: not valid JSON")
    assert m.read_text() == "{cut short"


def test_list_reports_never_run(ran_once):
    root, _ = ran_once
    r = kuril("--settings", str(root / "settings.ini"), "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = {x["name"]: x for x in json.loads(r.stdout)}
    assert rows["plain"]["status"] == "ok" and rows["plain"]["page"] == "plain.html"
    assert rows["text_param"]["status"] == "never run" and rows["text_param"]["last_run"] is None


def test_a_kernel_that_dies_before_it_answers_is_named(tmp_path, monkeypatch):
    "A kernel process that exits before it replies: the start fails, twice, saying so (not after the start-up timeout)."
    import asyncio
    from kuril_research.runner import executors
    (tmp_path / "sitecustomize.py").write_text("import os\nos._exit(3)\n")  # the kernel's interpreter exits as it starts
    real = executors.kernel_env
    monkeypatch.setattr(executors, "kernel_env", lambda environ=None: real(environ) | {"PYTHONPATH": str(tmp_path)})
    k = executors.WarmKernel(startup_timeout=600)
    try:
        with pytest.raises(executors.KernelStartError, match="did not start, twice: the kernel died before replying to kernel_info"):
            asyncio.run(k.start_or_retry())
    finally: k.stop()
