"The benchmark's arithmetic (the measurements themselves are `make bench`, never a timed test)."
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import json
from bench import figure_counts, figures, gravity_figures, gravity_lines, largest, parts, report_lines, same_pages, spread


def test_spread_samples_evenly():
    assert spread(list("abcdefghij"), 4) == ["a", "d", "g", "j"]
    assert spread(list("abc"), 10) == ["a", "b", "c"]
    assert spread(list("abc"), 0) == ["a", "b", "c"]


def test_parts_keep_the_order_and_every_name():
    assert parts(list("abcdefg"), 3) == [["a", "b"], ["c", "d", "e"], ["f", "g"]]
    assert parts(list("ab"), 3) == [["a"], ["b"]] and parts(list("abc"), 1) == [list("abc")]


def test_figures_and_verdict_lines():
    lines = report_lines({"reports": 12, "cores": 2, "jobs": 2, "naive": 66.0, "cold": 6.0, "warm": 0.4, "floor": 4.5, "cell_seconds": 9.0})
    assert figures(66, 6, 0.4, 4.5)["speedup"] == 11.0
    assert "MISSES" in report_lines({"reports": 1, "cores": 2, "jobs": 2, "naive": 10, "cold": 5, "warm": 2, "floor": 2, "cell_seconds": 4})[-2]
    assert all("meets" in l for l in lines[-4:-1])
    cpu = report_lines({"reports": 12, "cores": 2, "jobs": 2, "naive": 66.0, "cold": 6.0, "warm": 0.4, "floor": 4.5, "cell_seconds": 9.0,
                        "naive_cpu": 60.0, "cold_cpu": 10.5})
    assert "66.0 s  (60.0 CPU s)" in cpu[1] and "6.0 s  (10.5 CPU s)" in cpu[2] and cpu[:-1] == [l if i not in (1, 2) else cpu[i] for i, l in enumerate(lines)]
    assert cpu[-1] == "busy cores on average: cold kuril run 1.75 of 2, naive loop 0.91; CPU s naive/cold 5.7x"
    runs = report_lines({"reports": 12, "cores": 2, "jobs": 2, "naive": 66.0, "cold": 6.0, "warm": 0.4, "floor": 4.5, "cell_seconds": 9.0,
                         "cold_runs": [6.5, 6.0, 5.8]})
    assert runs[2].endswith("6.0 s; the median of 3, one after each part of the naive loop: 6.5 / 6.0 / 5.8 s") and runs[5] == lines[5]


def test_pages_are_compared_by_their_figures(tmp_path):
    png = {"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}, "metadata": {}}
    (tmp_path / "a.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": [png, png]}, {"cell_type": "markdown"}]}))
    (tmp_path / "b.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": []}]}))
    counts = figure_counts(tmp_path, ["a", "b", "c"])
    assert counts == {"a": 2, "b": 0, "c": -1}
    assert same_pages(counts, dict(counts)).startswith("pages: the naive loop and kuril run show the same 2 figures in 3 reports")
    assert same_pages(counts, counts | {"a": 0}) == "note: the pages differ in figures, so the ratio compares unlike work: a 2 vs 0"


GRAVITY = {"flows": 417622, "plain": 120.0, "fast": 4.0, "plain_cpu": 118.0, "fast_cpu": 5.9, "max_coef_diff": 3e-13,
           "max_se_rel_diff": 7e-9, "ri": 9.0, "ri_draws": 1000, "ri_p": [0.01, 0.02], "load": (0.5, 1.5), "cores": 2}


def test_gravity_figures():
    f = gravity_figures(GRAVITY)
    assert f["ratio"] == 30.0 and f["cpu_ratio"] == 20.0 and all(f[k] for k in ("fast_seconds", "ri_seconds", "coef_diff", "se_rel_diff"))
    f = gravity_figures(GRAVITY | {"fast": 25.0, "ri": 61.0, "max_coef_diff": 2e-6, "max_se_rel_diff": 1e-5})
    assert not any(f[k] for k in ("fast_seconds", "ri_seconds", "coef_diff", "se_rel_diff"))


def test_gravity_lines():
    out = "\n".join(gravity_lines(GRAVITY))
    assert "417,622 flows" in out and "ratio plain/ours:  30.0x wall,  20.0x CPU" in out
    assert "plain pyfixest fepois" in out and "120.0" in out and "(target <= 20 s wall: meets the target)" in out
    assert "1,000 draws" in out and "9.0 s (target <= 60 s: meets the target)" in out and "MISSES" not in out
    assert "MISSES" in "\n".join(gravity_lines(GRAVITY | {"fast": 25.0}))


def test_largest_reports_of_the_cold_run(tmp_path):
    ev = [{"report": "a", "cell_seconds": 6.0}, {"report": "b", "cell_seconds": 1.0}, {"report": "c", "cached": True},
          {"report": "d", "cell_seconds": 3.0}, {"batch": {"cell_seconds": 10.0}}, {"report": "a", "cell_seconds": 99.0}]
    (tmp_path / "run-log.jsonl").write_text("".join(json.dumps(e) + "\n" for e in ev))
    assert largest(tmp_path, 2) == "cell time of the cold run, largest 2 of 3 reports: a 6.0 s, d 3.0 s (90 % of 10.0 s)"
