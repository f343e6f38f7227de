"""A plain `pip install .` (no dev extra) in a fresh virtual environment runs the runtime commands.

nbdev, Sphinx and the test tools are the dev extra; nothing that `kuril list | data validate | verify | fetch | update | run` imports may
need them, and every package the runtime imports must be declared. This test builds the environment the way a user
would, so a missing declaration fails here rather than on their machine."""
import os, shutil, subprocess, sys, venv
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    "A fresh venv with the project installed from a copy of its tracked files, without extras."
    if shutil.which("git") is None: pytest.skip("git is needed to copy the tracked files")
    base = tmp_path_factory.mktemp("plain")
    src = base / "src"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for f in filter(None, files.decode().split("\0")):
        if not (ROOT / f).is_file(): continue
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-compile", str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return src, env_dir


def _kuril(plain, *args, env=None):
    src, env_dir = plain
    e = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    e.update({"PATH": f"{env_dir / 'bin'}:{e.get('PATH', '')}", **(env or {})})
    return subprocess.run([str(env_dir / "bin" / "kuril"), *args], cwd=src, env=e, capture_output=True, text=True)


def test_plain_install_has_no_dev_packages(plain):
    _, env_dir = plain
    r = subprocess.run([str(env_dir / "bin" / "python"), "-c", "import importlib.util as u; print([m for m in ('nbdev', 'sphinx', 'pytest', 'fastcore') if u.find_spec(m)])"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


def test_plain_install_runs_the_runtime_commands(plain, tmp_path):
    env = {"KURIL_REPORTS_DIR": str(tmp_path / "reports")}
    r = _kuril(plain, "list", env=env)
    assert r.returncode == 0 and "trade_overview" in r.stdout, r.stderr
    r = _kuril(plain, "data", "validate", "--no-peer", env=env)  # the Frictionless pass over the whole package: test_data_build
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr
    r = _kuril(plain, "run", "--dry-run", env=env)
    assert r.returncode == 0 and "trade_overview" in r.stdout, r.stderr
    r = _kuril(plain, "run", "trade_overview", env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (tmp_path / "reports" / "trade_overview.html").stat().st_size > 10_000
    # the snapshot commands' modules and the API clients they import lazily are runtime dependencies, not dev ones
    r = subprocess.run([str(plain[1] / "bin" / "python"), "-c", "import kuril_research.build.fetch, kuril_research.build.update, sdmx, wbgapi, comtradeapicall, tqdm, frictionless"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    r = _kuril(plain, "data", "update", "--help", env=env)
    assert r.returncode == 0 and "--dry-run" in r.stdout, r.stderr
    r = _kuril(plain, "docs", env=env)
    assert r.returncode == 2 and r.stderr.startswith("kuril: error: kuril docs needs the dev extra"), r.stderr
