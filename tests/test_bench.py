"The benchmark's arithmetic (the measurements themselves are `make bench`, never a timed test)."
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from bench import figures, gravity_lines, report_lines, spread


def test_spread_samples_evenly():
    assert spread(list("abcdefghij"), 4) == ["a", "d", "g", "j"]
    assert spread(list("abc"), 10) == ["a", "b", "c"]
    assert spread(list("abc"), 0) == ["a", "b", "c"]


def test_figures_and_verdict_lines():
    lines = report_lines({"reports": 12, "cores": 2, "jobs": 2, "naive": 66.0, "cold": 6.0, "warm": 0.4, "floor": 4.5, "cell_seconds": 9.0})
    assert figures(66, 6, 0.4, 4.5)["speedup"] == 11.0
    assert "MISSES" in report_lines({"reports": 1, "cores": 2, "jobs": 2, "naive": 10, "cold": 5, "warm": 2, "floor": 2, "cell_seconds": 4})[-2]
    assert all("meets" in l for l in lines[-4:-1])


def test_gravity_lines():
    out = gravity_lines({"flows": 417622, "plain": 200.0, "fast": 40.0, "ratio": 5.0, "max_coef_diff": 1e-13, "max_se_diff": 3e-12, "load": 2.0})
    assert "plain pyfixest fepois: 200.0 s" in out and "ratio plain/fast: 5.0x" in out and "417,622 flows" in out
