"Shared fixtures: the project root, its settings, and the raw folder when it is present."
import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

@pytest.fixture(scope="session")
def root():
    return ROOT

@pytest.fixture(scope="session")
def settings():
    from kuril_research.settings import load_settings
    return load_settings(ROOT / "settings.ini")

@pytest.fixture(scope="session")
def raw_dir(settings):
    "The raw folder; tests that rebuild the data package skip when it is absent (a clone without it)."
    if not settings.raw_dir.is_dir():
        pytest.skip(f"raw folder not present ({settings.raw_dir.name}): the committed data/ is used as it is")
    return settings.raw_dir

def kuril(*args, cwd=ROOT, env=None):
    "Run the `kuril` console script; return the CompletedProcess."
    e = {**os.environ, **(env or {})}
    return subprocess.run([str(BIN / "kuril"), *args], cwd=cwd, env=e, capture_output=True, text=True)

@pytest.fixture
def data_copy(tmp_path, settings):
    "A scratch copy of the committed data package."
    dest = tmp_path / "data"
    shutil.copytree(settings.data_dir, dest)
    return dest

@pytest.fixture
def comtrade_server(httpserver, monkeypatch):
    "comtradeapicall's own code, its HTTPS host rewritten to the local test server (pytest-httpserver)."
    import urllib3
    import comtradeapicall.PreviewGet as PG
    class Pool(urllib3.PoolManager):
        def request(self, method, url, **kw): return super().request(method, url.replace("https://comtradeapi.un.org", httpserver.url_for("").rstrip("/")), **kw)
    class Shim:
        PoolManager = Pool; ProxyManager = urllib3.ProxyManager; exceptions = urllib3.exceptions
    monkeypatch.setattr(PG, "urllib3", Shim)
    return httpserver

# Longest test files first. `make test` runs two workers, one file at a time each (`--dist loadfile`): a long file
# handed out last keeps one worker busy while the other has nothing left. The seconds each file took in the last run
# are kept in pytest's own cache (.pytest_cache, as `--failed-first` keeps its failures); a run without them (a fresh
# clone) keeps the collection order.
FILE_SECONDS = "kuril/test_seconds" # + "/" + the selection (`-m`): {test file: seconds}

def _times_key(config) -> str:
    "One record per selection (`-m`): the slow tests run alone must not reorder the usual run."
    import re
    return f"{FILE_SECONDS}/{re.sub(r'[^A-Za-z0-9]+', '_', getattr(config.option, 'markexpr', '') or '') or 'all'}"

def _file(nodeid:str) -> str: return nodeid.split("::")[0]

def longest_first(nodeids:list, # test ids in collection order
                  seconds:dict, # test file -> seconds it took last time
                 ) -> list:
    "The positions of `nodeids` with the longest files first; a file's tests, and files without a time, keep their order."
    return sorted(range(len(nodeids)), key=lambda i: -seconds.get(_file(nodeids[i]), 0.0))

def pytest_collection_modifyitems(session, config, items):
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    seconds = cache.get(_times_key(config), {}) if cache else {}
    if seconds: items[:] = [items[i] for i in longest_first([item.nodeid for item in items], seconds)]

_SECONDS: dict = {} # file -> seconds of its tests' setup, call and teardown in this run

def pytest_runtest_logreport(report):
    # on the controller (and in a run without workers) every test's setup, call and teardown arrive here
    _SECONDS[_file(report.nodeid)] = _SECONDS.get(_file(report.nodeid), 0.0) + report.duration

def pytest_sessionfinish(session, exitstatus):
    config, cache = session.config, getattr(session.config, "cache", None)
    if hasattr(config, "workerinput") or not cache or not _SECONDS: return  # a worker, no cache, or nothing ran
    key = _times_key(config)
    cache.set(key, {**cache.get(key, {}), **{k: round(v, 2) for k, v in _SECONDS.items()}})
