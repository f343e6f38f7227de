"""What the analysis tests share: running an analysis through the real papermill CLI, reading what the executed
notebook shows, and breaking one cell of a data table copy."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPERMILL = Path(sys.executable).parent / "papermill"
ANALYSES = ROOT / "nbs" / "analyses"
INLINE = "module://matplotlib_inline.backend_inline"  # as the report runner gives its kernels: figures are shown, not discarded


def papermill(report, out, *args, env=None):
    "Run the papermill CLI on an analysis; return (CompletedProcess, output notebook or None)."
    cmd = [str(PAPERMILL), "-k", "python3", str(ANALYSES / f"{report}.ipynb"), str(out), *args]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": INLINE, **(env or {})}, timeout=300)
    nb = json.loads(Path(out).read_text(encoding="utf-8")) if Path(out).exists() else None
    return p, nb


def outputs(nb):
    return [(c, o) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def errors(nb):
    return [(c, o) for c, o in outputs(nb) if o.get("output_type") == "error"]


def pngs(nb):
    return sum("image/png" in o.get("data", {}) for _, o in outputs(nb))


def text(nb):
    "Everything the notebook shows as HTML, Markdown, plain text or printed output."
    parts = []
    for _, o in outputs(nb):
        d = o.get("data", {})
        for k in ("text/html", "text/markdown", "text/plain"):
            if k in d: parts.append("".join(d[k]) if isinstance(d[k], list) else d[k])
        if o.get("output_type") == "stream": parts.append("".join(o["text"]))
    return "\n".join(parts)


def src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def break_cell(data_dir, table, column, bad):
    "Replace the first row's `column` of a table copy by a value that breaks its schema (a hand edit)."
    f = Path(data_dir) / f"{table}.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index(column)] = bad
    f.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")


def assert_stopped_in_check_cell(p, nb, ename="ParameterError", message=None):
    "The run failed with one `ename` error, raised by the parameter-check cell, before any figure was drawn."
    assert p.returncode != 0
    if message is not None: assert message in p.stderr, p.stderr[-1500:]
    (cell, err), = errors(nb)
    assert err["ename"] == ename, err["ename"]
    assert "check_parameters(" in src(cell)  # the failing cell is the parameter check, before any computation
    assert pngs(nb) == 0
    return err


def assert_ran_clean(p, nb, min_figures):
    "The run finished without an error, drew at least `min_figures` figures and ends with its sources and version stamp."
    assert p.returncode == 0, p.stderr[-2000:]
    assert not errors(nb)
    assert pngs(nb) >= min_figures, f"{pngs(nb)} figures"
    assert "Sources" in text(nb) and "data package" in text(nb)  # the sources table and the version stamp
