"""`kuril run` hardening: values a check cell rejects, duplicate and malformed arguments, the reports folder's lock,
ad-hoc runs beside the catalogue, and `kuril list --json` typed for schedulers."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import BIN, ROOT, kuril
from test_runner import make_project, manifest, outputs, ran, run


def one_line(r, *needles):
    "The run stopped with exit 2 and one line on stderr holding every needle; return that line."
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kuril: error: "), r.stderr
    for n in needles: assert n in lines[0], (n, lines[0])
    assert "Traceback" not in r.stderr and r.stdout == "", r.stdout
    return lines[0]


def files(root):
    "{relative path: bytes} of everything in the reports folder but the run log and the lock."
    rd = root / "reports"
    return {p.relative_to(rd).as_posix(): p.read_bytes() for p in sorted(rd.rglob("*"))
            if p.is_file() and p.name != "run-log.jsonl" and not p.name.startswith(".kuril.lock")}


# -- values the check cell rejects ------------------------------------------------------------------------------

def test_rejected_parameter_one_line_nothing_written(tmp_path):
    root = make_project(tmp_path)
    assert run(root).returncode == 0
    before = files(root)
    line = one_line(run(root, "plain", "-p", "start_year=1700"), "report plain", "-p start_year=1700",
                    "parameter start_year=1700: outside the years of the fixture data (1990–2030)")
    assert line.count("kuril: error:") == 1
    assert files(root) == before, "no page, notebook, manifest entry or index row changed"
    r = run(root, "--force", "-p", "start_year=1700") # the whole catalogue: the others run, plain is rejected
    assert r.returncode == 2 and r.stdout == "", r.stdout
    errors = [l for l in r.stderr.splitlines() if l.startswith("kuril: error:")]
    assert errors == [line] and r.stderr.strip().splitlines()[-1] == line, r.stderr
    after, rec = files(root), manifest(root)["reports"]["plain"]
    assert {k: v for k, v in after.items() if k.startswith("plain.")} == {k: v for k, v in before.items() if k.startswith("plain.")}
    assert rec == json.loads(before["manifest.json"])["reports"]["plain"], "plain's manifest entry is unchanged"


REAL = {  # report: (-p arguments, what the check cell says), on the project's own analyses
    "event_window": (["-p", "event_id=E999"], "parameter event_id='E999': no dated event with this id"),
    "dispute_timeline": (["-p", "start_year=1700"], "parameter start_year=1700: outside"),
    "energy_and_composition": (["-p", "start_year=2020", "-p", "end_year=2010"], "parameter end_year=2010 is before start_year=2020"),
    "trade_overview": (["-p", "currency=EUR"], "parameter currency='EUR': 'EUR' is not allowed; allowed: USD, JPY, RUB"),
}

@pytest.mark.parametrize("report", [r if r in ("event_window", "trade_overview") else pytest.param(r, marks=pytest.mark.slow) for r in REAL])
def test_rejected_parameter_real_analyses(tmp_path, report):
    args, message = REAL[report]
    rd = tmp_path / "reports"
    r = kuril("run", report, *args, env={"KURIL_REPORTS_DIR": str(rd)})
    one_line(r, f"report {report}: -p ", message)
    assert not [p for p in rd.rglob("*") if p.suffix in (".html", ".ipynb", ".json")], "nothing written"


def test_catalogue_value_rejected_names_section_and_key(tmp_path):
    root = make_project(tmp_path, {"plain": ("plain", {"start_year": "1700"})})
    r = run(root)
    one_line(r, "settings.ini [report plain] start_year = 1700:", "outside the years of the fixture data")
    assert not files(root), "nothing written"
    listed = kuril("--settings", str(root / "settings.ini"), "list")
    assert listed.returncode == 2 and "plain" in listed.stdout
    assert listed.stderr.strip().splitlines() == r.stderr.strip().splitlines(), "kuril list says the same line"
    js = kuril("--settings", str(root / "settings.ini"), "list", "--json")
    assert json.loads(js.stdout)[0]["rejected"].startswith("settings.ini [report plain] start_year = 1700:")
    settings = root / "settings.ini"
    settings.write_text(settings.read_text().replace("start_year = 1700", "start_year = 1995"))
    assert run(root).returncode == 0
    fixed = kuril("--settings", str(settings), "list")
    assert fixed.returncode == 0 and fixed.stderr == "", fixed.stderr


# -- arguments --------------------------------------------------------------------------------------------------

def test_duplicate_parameter_and_argparse_errors(tmp_path):
    root = make_project(tmp_path, {"plain": "plain"})
    one_line(run(root, "-p", "start_year=2000", "-p", "start_year=2001"), "-p start_year: given twice", "'2000'", "'2001'")
    one_line(run(root, "--jobs", "abc"), "kuril: error: run: argument -j/--jobs: invalid int value: 'abc'")
    one_line(kuril("--settings", str(root / "settings.ini"), "lisst"), "invalid choice: 'lisst'")
    one_line(run(root, "--no-such-option"), "unrecognized arguments: --no-such-option")
    h = run(root, "--help")
    assert h.returncode == 0 and h.stdout.startswith("usage: kuril run") and "--no-wait" in h.stdout
    assert not (root / "reports").exists()


# -- the reports folder's lock ----------------------------------------------------------------------------------

def test_two_runs_together_write_what_one_run_writes(tmp_path):
    root = make_project(tmp_path)
    cmd = [str(BIN / "kuril"), "--settings", str(root / "settings.ini"), "run"]
    ps = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    done = [p.communicate(timeout=300) for p in ps]
    assert [p.returncode for p in ps] == [0, 0], done
    waited = [err for _, err in done if "waiting for the reports folder reports/, locked by kuril run pid" in err]
    assert len(waited) == 1, done
    assert sorted(ran(out) for out, _ in done) == [[], ["plain", "reads_events", "reads_trade"]], "the second run found all current"
    rd = root / "reports"
    assert not list(rd.rglob(".*.tmp")), "no file half-written"
    for p in rd.glob("*.ipynb"): json.loads(p.read_text())
    together = outputs(root)
    (rd / "index.html").unlink()
    for p in rd.iterdir():
        if p.is_file(): p.unlink()
    assert run(root).returncode == 0
    assert outputs(root) == together, "two runs started together give the same bytes as one run"


HOLD = """
import sys, time
from pathlib import Path
from kuril_research.runner.run import lock_reports
with lock_reports(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""

def test_no_wait_names_holder_and_killed_holder_never_blocks(tmp_path):
    root = make_project(tmp_path, {"plain": "plain"})
    rd = root / "reports"; rd.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(rd)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        one_line(run(root, "--no-wait"), "reports folder reports/: locked by kuril run pid", f"pid {holder.pid} (started ",
                 "without --no-wait")
        assert not (rd / "manifest.json").exists()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None: holder.kill()
    assert json.loads((rd / ".kuril.lock.holder").read_text())["pid"] == holder.pid, "the killed holder's note is left"
    r = run(root, "--no-wait")
    assert r.returncode == 0 and "waiting" not in r.stderr, r.stderr
    assert not (rd / ".kuril.lock.holder").exists(), "a finished run removes its note"


# -- ad-hoc runs ------------------------------------------------------------------------------------------------

def test_adhoc_runs_beside_the_catalogue(tmp_path):
    root = make_project(tmp_path, {"plain": "plain"})
    assert run(root).returncode == 0
    rd = root / "reports"
    page, index, rec = (rd / "plain.html").read_bytes(), (rd / "index.html").read_bytes(), manifest(root)["reports"]["plain"]
    listed = lambda: json.loads(kuril("--settings", str(root / "settings.ini"), "list", "--json").stdout)[0]
    last = listed()["last_run"]
    r = run(root, "plain", "-p", "start_year=1999", "-p", "label=a/b c")
    assert r.returncode == 0 and ran(r.stdout) == ["plain"], r.stdout + r.stderr
    adhoc = sorted(p.name for p in (rd / "adhoc").iterdir())
    stem = adhoc[0].removesuffix(".html")
    assert stem.startswith("plain--label=~") and stem.endswith("--start_year=1999"), adhoc
    assert adhoc == [f"{stem}.html", f"{stem}.ipynb"]
    assert f"reports/adhoc/{stem}.html" in r.stdout
    assert (rd / "plain.html").read_bytes() == page, "the catalogue's page is not overwritten"
    assert (rd / "index.html").read_bytes() == index, "the published index has no ad-hoc page"
    m = manifest(root)
    assert m["reports"]["plain"] == rec and m["adhoc"][f"adhoc/{stem}"]["parameters"]["start_year"] == 1999
    nb = json.loads((rd / "adhoc" / f"{stem}.ipynb").read_text())
    assert "'a/b c' 1999" in json.dumps(nb), "the ad-hoc page shows its own parameters"
    assert ran(run(root, "plain", "-p", "label=a/b c", "-p", "start_year=1999").stdout) == [], "an ad-hoc run is cached too"
    assert ran(run(root).stdout) == [], "the catalogue is still current"
    assert listed()["page"] == "plain.html" and listed()["last_run"] == last, "kuril list shows the catalogue's run"


# -- kuril list --json for schedulers ---------------------------------------------------------------------------

def test_list_json_typed():
    rows = {r["name"]: r for r in json.loads(kuril("list", "--json").stdout)}
    s = rows["dispute_timeline_sanctions"]
    assert s["parameters"]["start_year"] == 2014 and s["parameters_text"]["start_year"] == "2014"
    assert s["parameters"]["categories"][:2] == ["sanctions", "counter_measure"]
    assert rows["sanctions_effect_2022"]["parameters"]["placebo_years"] == [2018, 2019]


def papermill_entry(row, tmp_path):
    cmd = [str(BIN / "papermill"), "-k", "python3", str(ROOT / row["notebook"]), str(tmp_path / f"{row['name']}.ipynb"),
           "-y", json.dumps(row["parameters"])]
    p = subprocess.run(cmd, cwd=ROOT / Path(row["notebook"]).parent, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "MPLBACKEND": "agg"})
    assert p.returncode == 0, f"{row['name']}: {p.stderr[-1500:]}"


SAMPLE = ["dispute_timeline_sanctions", "event_window_2016_december_summit", "energy_and_composition_since_2021"]

@pytest.mark.parametrize("name", SAMPLE)
def test_list_json_parameters_run_in_papermill(tmp_path, name):
    rows = {r["name"]: r for r in json.loads(kuril("list", "--json").stdout)}
    papermill_entry(rows[name], tmp_path)


@pytest.mark.slow
def test_every_catalogue_entry_runs_in_papermill(tmp_path):
    rows = json.loads(kuril("list", "--json").stdout)
    for row in rows: papermill_entry(row, tmp_path)
