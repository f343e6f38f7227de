"""A report figure in a real kernel (papermill CLI, the inline backend the runner gives its kernels): it is shown once,
at its own size, and drawn once: laid out as it is drawn, not measured by a second draw for a tight bounding box, nor
drawn again by pyplot's redraw hook."""
import base64, io, json, os, subprocess
import nbformat
from PIL import Image
from notebook_runs import INLINE, PAPERMILL, ROOT


def test_a_figure_is_shown_once_and_drawn_once(tmp_path):
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
    pngs = [o["data"]["image/png"] for o in cells[0]["outputs"] if "image/png" in o.get("data", {})]
    assert len(pngs) == 1
    assert Image.open(io.BytesIO(base64.b64decode("".join(pngs[0])))).size == (900, 480)  # the house size, 9 × 4.8 in at 100 dpi
    assert cells[1]["outputs"][0]["text"] == ["1\n"]
