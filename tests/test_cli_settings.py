"The `kuril` command line on broken settings: one line on stderr naming the section and key, exit status 2."
import pytest
from conftest import kuril, ROOT

BASE = "[paths]\ndata_dir = data\nraw_dir = raw\nreports_dir = reports\n"

@pytest.fixture
def project(tmp_path):
    (tmp_path / "data").mkdir(); (tmp_path / "nbs").mkdir()
    (tmp_path / "nbs" / "a.ipynb").write_text("{}")
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path

@pytest.mark.parametrize("text, expected", [
    (BASE + "[report a]\nstart_year = 1990\n", "settings.ini [report a] notebook: missing"),
    (BASE.replace("data_dir", "data_folder"), "settings.ini [paths] data_folder: unknown key"),
    (BASE + "[report a]\nnotebook = nbs/a.ipynb\n[report a]\nnotebook = nbs/a.ipynb\n", "section [report a] appears twice"),
    (BASE + "[report a]\nnotebook = nbs/missing.ipynb\n", "[report a] notebook = missing.ipynb: no such notebook"),
    (BASE.replace("data_dir = data", "data_dir = nowhere"), "settings.ini [paths] data_dir = nowhere: not a directory"),
    (BASE + "[defaults]\njobs = two\n", "settings.ini [defaults] jobs = two: expected int"),
    ("data_dir = data\n" + BASE, "settings.ini line 1: a key before any [section]"),
])
def test_broken_settings_one_line_exit_2(project, text, expected):
    (project / "settings.ini").write_text(text)
    r = kuril("list", cwd=project)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("kuril: error: "), r.stderr
    assert expected in r.stderr
    assert "Traceback" not in r.stderr

def test_env_overrides_data_dir(project, tmp_path):
    (project / "settings.ini").write_text(BASE)
    other = tmp_path / "elsewhere"; other.mkdir()
    from kuril_research.settings import load_settings
    import os
    old = os.environ.get("KURIL_DATA_DIR")
    os.environ["KURIL_DATA_DIR"] = str(other)
    try: assert load_settings(project / "settings.ini").data_dir == other.resolve()
    finally:
        if old is None: del os.environ["KURIL_DATA_DIR"]
        else: os.environ["KURIL_DATA_DIR"] = old

def test_settings_first_line_says_not_nbdev():
    first = (ROOT / "settings.ini").read_text().splitlines()[0]
    assert "not nbdev" in first.lower()

def test_list_json_matches_catalogue(settings):
    import json
    r = kuril("list", "--json")
    assert r.returncode == 0, r.stderr
    names = [row["name"] for row in json.loads(r.stdout)]
    assert names == list(settings.reports)
