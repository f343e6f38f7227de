"""A report figure in a real kernel (papermill CLI, the inline backend the runner gives its kernels): it is shown once
and drawn twice (the tight bounding box, then the pixels), not a third time by pyplot's redraw hook."""
import json, os, subprocess
import nbformat
from notebook_runs import INLINE, PAPERMILL, ROOT


def test_a_figure_is_shown_once_and_drawn_twice(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from kuril_research import plots\ndraws = []\n"
                                          "fig, ax = plots.figure('A title', 'year', 'USD bn', 'Source: a publisher')\n"
                                          "fig.canvas.mpl_connect('draw_event', lambda e: draws.append(1))\nax.plot([2000, 2001], [1, 2])"),
                nbformat.v4.new_code_cell("print(len(draws))")]
    src, out = tmp_path / "fig.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    p = subprocess.run([str(PAPERMILL), "-k", "python3", str(src), str(out)], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "MPLBACKEND": INLINE}, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    cells = json.loads(out.read_text())["cells"]
    assert sum("image/png" in o.get("data", {}) for o in cells[0]["outputs"]) == 1
    assert cells[1]["outputs"][0]["text"] == ["2\n"]
