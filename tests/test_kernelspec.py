"""Every notebook in nbs/ names the project's kernel (tools/kernelspec.py, run by the drift check and `make kernelspec`)."""
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import kernelspec  # noqa: E402


def test_every_notebook_names_the_project_kernel():
    nbs = kernelspec.notebooks(ROOT / "nbs")
    assert any(p.parent.name == "analyses" for p in nbs) and any(p.parent.name == "nbs" for p in nbs)
    bad = {str(p.relative_to(ROOT)): kernelspec.problems(json.loads(p.read_text(encoding="utf-8"))["metadata"]) for p in nbs}
    assert {k: v for k, v in bad.items() if v} == {}


def test_a_missing_other_or_cluttered_kernelspec_is_caught():
    assert kernelspec.problems(kernelspec.METADATA) == []
    assert kernelspec.problems({})[0].startswith("no kernelspec")
    other = {**kernelspec.METADATA, "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    assert kernelspec.problems(other)[0].startswith("kernelspec {'name': 'python3'")
    assert kernelspec.problems({**kernelspec.METADATA, "jupytext": {}}) == ["stray metadata jupytext"]
    saved_by_lab = {**kernelspec.METADATA, "language_info": {"name": "python", "version": "3.11.2"}}
    assert kernelspec.problems(saved_by_lab)[0].startswith("language_info")


def test_check_fails_on_a_new_notebook_and_the_fix_makes_it_pass(tmp_path):
    "A notebook added later, with no metadata: `--check` exits 1 naming it; the fix writes exactly the project's metadata."
    nb = tmp_path / "new.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"jupytext": {"main_language": "python"}}, "nbformat": 4, "nbformat_minor": 5}))
    run = lambda *a: subprocess.run([sys.executable, str(ROOT / "tools" / "kernelspec.py"), *a, str(nb)], capture_output=True, text=True)
    r = run("--check")
    assert r.returncode == 1 and "new.ipynb: no kernelspec" in r.stderr and "make kernelspec" in r.stderr
    assert run().returncode == 0
    assert json.loads(nb.read_text())["metadata"] == kernelspec.METADATA
    assert run("--check").returncode == 0
