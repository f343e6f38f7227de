"`kuril run` on the fixture catalogue: outputs, cache rules, determinism, isolation, secrets, Dask."
import json, os, re, shutil
from pathlib import Path
import pytest
from conftest import kuril

FIXTURES = Path(__file__).parent / "fixtures"
EVIL = "it's \"quoted\"\nsecond line __import__('os').system('touch PWNED')"


def make_project(tmp_path, reports=None):
    "A scratch copy of the fixture project; `reports` replaces its catalogue: {name: notebook stem or (stem, params)}."
    root = tmp_path / "project"
    shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("reports"))
    if reports is not None:
        text = (root / "settings.ini").read_text().split("[report ")[0]
        for name, spec in reports.items():
            stem, params = (spec, {}) if isinstance(spec, str) else spec
            text += f"\n[report {name}]\nnotebook = analyses/{stem}.ipynb\n" + "".join(f"{k} = {v}\n" for k, v in params.items())
        (root / "settings.ini").write_text(text)
    return root


def run(root, *args, env=None):
    return kuril("--settings", str(root / "settings.ini"), "run", *args, env=env)


def outputs(root):
    "{file name: bytes} of the deterministic outputs (pages, notebooks, manifest)."
    rd = root / "reports"
    return {p.name: p.read_bytes() for p in sorted(rd.iterdir()) if p.suffix in (".html", ".ipynb") and p.name != "index.html"} | \
           {"manifest.json": (rd / "manifest.json").read_bytes()}


def manifest(root):
    return json.loads((root / "reports" / "manifest.json").read_text())


def ran(stdout):
    "Report names the summary table says ran (not cache hits)."
    return sorted(re.findall(r"│ (\w+)\s+│ \w[\w-]*.*?│ [\d.]+\s+│ ran", stdout))


def test_cold_warm_and_byte_identical(tmp_path):
    root = make_project(tmp_path)
    first = run(root)
    assert first.returncode == 0, first.stderr
    rd = root / "reports"
    for name in ("plain", "reads_trade", "reads_events"):
        assert (rd / f"{name}.html").is_file() and (rd / f"{name}.ipynb").is_file()
    assert ran(first.stdout) == ["plain", "reads_events", "reads_trade"]
    page = (rd / "plain.html").read_text()
    assert "data:image/png;base64," in page, "the figure is embedded"
    assert 'id="kuril-show-code"' in page, "code is hidden behind a switch"
    assert not re.search(r'(src|href)="https?://', page), "nothing is loaded from the network"
    events = (rd / "reads_events.html").read_text()
    assert "<script" not in events and "&lt;script&gt;alert" in events, "text from data is escaped"
    m = manifest(root)
    assert m["reports"]["plain"]["parameters"]["label"] == "from settings"
    assert m["reports"]["plain"]["parameters"]["partners"] == ["CHN", "KOR"]
    assert set(m["reports"]["reads_trade"]["inputs"]["tables"]) == {"sources", "trade"}
    from kuril_research.data import tables_hash
    version = tables_hash(["trade"], root / "data")
    assert m["reports"]["reads_trade"]["data_package"] == version, "the manifest's data version is the hash of the tables the report read"
    assert "seconds" not in (rd / "manifest.json").read_text(), "no timings in the manifest"
    log = [json.loads(l) for l in (rd / "run-log.jsonl").read_text().splitlines()]
    assert any(e.get("report") == "plain" and e.get("cell_seconds", 0) > 0 for e in log)
    index = (rd / "index.html").read_text()
    assert all(f'href="{n}.html"' in index for n in ("plain", "reads_trade", "reads_events"))
    assert f"<code>{version}</code>" in index, "the index shows the same data version"
    status = dict(re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a></td><td>.*?</td><td><span class="[a-z]+">([^<]+)</span>', index))
    assert status and set(status.values()) == {"ok"}, f"every report that ran shows its status on the index: {status}"
    before = outputs(root)

    warm = run(root)
    assert warm.returncode == 0 and ran(warm.stdout) == [], warm.stdout
    assert outputs(root) == before

    shutil.rmtree(rd)
    again = run(root)
    assert again.returncode == 0, again.stderr
    assert outputs(root) == before, "two cold runs write the same bytes"


def test_cache_invalidation_rules(tmp_path):
    root = make_project(tmp_path)
    assert run(root).returncode == 0
    trade = root / "data" / "trade.csv"
    trade.write_text(trade.read_text().replace("30.8", "30.9"))
    dry = run(root, "--dry-run")
    assert dry.returncode == 0 and "table trade changed" in dry.stdout, dry.stdout
    assert dry.stdout.count("would run") == 1
    assert ran(run(root).stdout) == ["reads_trade"], "editing one table reruns exactly the report that read it"

    src = root / "analyses" / "plain.ipynb"
    nb = json.loads(src.read_text())
    nb["cells"][3]["source"] = "The figure below, drawn with matplotlib, has new prose."
    src.write_text(json.dumps(nb))
    edited = run(root)
    assert ran(edited.stdout) == ["plain"], "editing a markdown cell reruns the report"
    assert "has new prose" in (root / "reports" / "plain.html").read_text()

    assert ran(run(root, "plain", "-p", "start_year=1999").stdout) == ["plain"], "a new parameter value reruns"
    assert manifest(root)["adhoc"]["adhoc/plain--start_year=1999"]["parameters"]["start_year"] == 1999, "an ad-hoc run"
    assert ran(run(root, "plain", "-p", "start_year=1999").stdout) == [], "and is current the second time"
    assert ran(run(root, "--force").stdout) == ["plain", "reads_events", "reads_trade"]
    (root / "reports" / "reads_events.html").write_text("edited by hand")
    assert ran(run(root).stdout) == ["reads_events"], "an output changed on disk is rebuilt"


def test_no_state_leaks_and_parameters_arrive_as_data(tmp_path):
    root = make_project(tmp_path, {"sets_global": "sets_global", "checks_global": "checks_global", "text_param": "text_param"})
    r = run(root, "-j", "1", "-p", f"text={EVIL}")
    assert r.returncode == 0, r.stdout + r.stderr
    log = [json.loads(l)["report"] for l in (root / "reports" / "run-log.jsonl").read_text().splitlines() if '"report"' in l]
    assert log == ["sets_global", "checks_global", "text_param"], "all ran, in order, in the one kernel"
    assert "clean" in (root / "reports" / "checks_global.ipynb").read_text()
    out, = (root / "reports" / "adhoc").glob("text_param--text=~*.ipynb") # a -p run is ad hoc, its value hashed in the name
    nb = json.loads(out.read_text())
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert printed.strip() == repr(EVIL), "a string with quotes, a newline and code arrives as that string"
    assert not list(root.rglob("PWNED")) and not (Path.cwd() / "PWNED").exists()
    assert manifest(root)["adhoc"][f"adhoc/{out.stem}"]["parameters"]["text"] == EVIL


def test_secrets_never_written(tmp_path):
    root = make_project(tmp_path, {"leaks_env": "leaks_env", "plain": "plain"})
    secrets = {"KURIL_TEST_API_KEY": "sk-test-4f9a8b7c6d5e", "SOME_SERVICE_TOKEN": "tok-91827364554637",
               "DB_PASSWORD": "pw-correct-horse-battery"}
    r = run(root, env=secrets)
    assert r.returncode == 1, "leaks_env raises by design"
    written = [p for p in (root / "reports").iterdir() if p.is_file()]
    assert {p.name for p in written} >= {"leaks_env.failed.html", "leaks_env.failed.ipynb", "manifest.json", "run-log.jsonl", "index.html"}
    for value in secrets.values():
        assert value not in r.stdout + r.stderr
        for p in written: assert value not in p.read_text(), f"{value} in {p.name}"
    assert "PATH" in (root / "reports" / "leaks_env.failed.ipynb").read_text(), "the environment was printed, without secrets"


def test_dask_local_cluster_matches_local(tmp_path):
    root = make_project(tmp_path, {"plain": ("plain", {"label": "dask check"}), "reads_trade": "reads_trade"})
    assert run(root, "-j", "2").returncode == 0
    local = outputs(root)
    shutil.rmtree(root / "reports")
    r = run(root, "--executor", "dask", "-j", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ran(r.stdout) == ["plain", "reads_trade"]
    assert outputs(root) == local, "the Dask executor writes the same bytes as the local one"


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_after_starts_a_report_once_the_ones_it_names_have_finished(tmp_path, executor):
    # `quick` would finish first beside `slow`; held back by `after`, it starts when `slow` has finished. `free` names
    # nothing and runs at once beside `slow`
    root = make_project(tmp_path, {"slow": ("sleeps", {"seconds": 3}), "quick": ("plain", {"after": "slow"}), "free": ("sleeps", {"seconds": 0})})
    r = run(root, "--executor", executor, "-j", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ran(r.stdout) == ["free", "quick", "slow"]
    log = [json.loads(l) for l in (root / "reports" / "run-log.jsonl").read_text().splitlines()]
    done = [e["report"] for e in log if "report" in e]
    assert done == ["free", "slow", "quick"], done
    rows = {row["name"]: row for row in json.loads(kuril("--settings", str(root / "settings.ini"), "list", "--json").stdout)}
    assert rows["quick"]["after"] == ["slow"] and rows["slow"]["after"] == [] and "after" not in rows["quick"]["parameters"]


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_report_released_by_its_after_starts_before_the_queued_ones(tmp_path, executor):
    # one report at a time: `slow` first (another waits for it), `other` handed over beside it; when `slow` ends, `quick`
    # goes ahead of `free`, which was queued before it was released (submitted behind the rest, it would run last)
    root = make_project(tmp_path, {"slow": ("sleeps", {"seconds": 1}), "quick": ("plain", {"after": "slow"}),
                                   "other": "reads_trade", "free": ("sleeps", {"seconds": 0})})
    r = run(root, "--executor", executor, "-j", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    log = [json.loads(l) for l in (root / "reports" / "run-log.jsonl").read_text().splitlines()]
    assert [e["report"] for e in log if "report" in e] == ["slow", "other", "quick", "free"]


def test_a_report_dropped_from_the_catalogue_leaves_the_index_at_the_next_run(tmp_path):
    # nothing else to run (every other report is current): the index is still rewritten without it
    root = make_project(tmp_path)
    assert run(root).returncode == 0
    assert 'href="reads_events.html"' in (root / "reports" / "index.html").read_text()
    ini = root / "settings.ini"
    ini.write_text(ini.read_text().replace("[report reads_events]\nnotebook = analyses/reads_events.ipynb\n", ""))
    again = run(root)
    assert again.returncode == 0 and ran(again.stdout) == []
    assert "reads_events" not in (root / "reports" / "index.html").read_text()
