"""What the analysis tests share: running an analysis through the real papermill CLI, in a warm kernel of the report
runner, or in this process up to its parameter-check cell; reading what the executed notebook shows; and breaking one
cell of a data table copy."""
import json, os, re, subprocess, sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPERMILL = Path(sys.executable).parent / "papermill"
ANALYSES = ROOT / "nbs" / "analyses"
INLINE = "module://matplotlib_inline.backend_inline"  # as the report runner gives its kernels: figures are shown, not discarded


def papermill(report, out, *args, env=None):
    "Run the papermill CLI on an analysis; return (CompletedProcess, output notebook or None)."
    cmd = [str(PAPERMILL), "-k", "python3", str(ANALYSES / f"{report}.ipynb"), str(out), *args]
    for _ in range(2):
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": INLINE, **(env or {})}, timeout=300)
        # a kernel that dies while starting (two test workers launching kernels at once can race for the same free
        # port) has run nothing of the notebook: start it once more; any other failure is the test's to judge
        if "Kernel died before replying to kernel_info" not in p.stderr: break
    nb = json.loads(Path(out).read_text(encoding="utf-8")) if Path(out).exists() else None
    return p, nb


def cli_values(args):
    """The parameter values papermill's CLI makes of these `-p NAME VALUE`, `-r NAME VALUE` and `-y YAML` arguments,
    with its own rules and in its own order: the YAML strings first, then `-p` (typed by papermill's `_resolve_type`),
    then `-r` (raw strings)."""
    import yaml
    from papermill.cli import _resolve_type
    from papermill.iorw import NoDatesSafeLoader
    ys, ps, rs, args = [], [], [], list(args)
    while args:
        flag = args.pop(0)
        if flag == "-y": ys.append(args.pop(0))
        elif flag in ("-p", "-r"): (ps if flag == "-p" else rs).append((args.pop(0), args.pop(0)))
        else: raise ValueError(f"not a papermill parameter argument: {flag!r}")
    values = {}
    for y in ys: values.update(yaml.load(y, Loader=NoDatesSafeLoader) or {})
    values |= {k: _resolve_type(v) for k, v in ps} | dict(rs)
    return values


@dataclass
class KernelRun:
    "What `in_kernel` returns where `papermill` returns a CompletedProcess: papermill's exit status and the error it prints."
    returncode: int
    stderr: str
    status: str  # the runner's status: ok, error, timeout, kernel-died, kernel-failed-to-start


def in_kernel(report, out, values=None, env=None, timeout=300):
    """Run an analysis in this thread's warm kernel (`kuril_research.runner.executors.run_notebook`), its parameters
    injected by papermill's own `parameterize_notebook` as the CLI does (only when there are any), in the folder the
    CLI runs it from; write the executed notebook to `out`; return (KernelRun, executed notebook as read back from JSON)."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook
    from kuril_research.runner.executors import run_notebook
    nb = load_notebook_node(str(ANALYSES / f"{report}.ipynb"))  # as the CLI reads it (every cell gets metadata.tags)
    if values: nb = parameterize_notebook(nb, values)
    run = run_notebook(nb, str(ROOT), {"MPLBACKEND": INLINE, **(env or {})}, timeout)
    f = run.failure
    err = "" if f is None else "\n".join([*f.traceback, f"{f.ename}: {f.evalue}"])
    Path(out).write_text(nbformat.writes(run.nb), encoding="utf-8")
    return KernelRun(0 if run.status == "ok" else 1, err, run.status), json.loads(Path(out).read_text(encoding="utf-8"))


def run_all(jobs, threads):
    """Run {name: zero-argument function} on the report runner's own `LocalExecutor`: `threads` threads, each keeping one
    warm kernel for the `in_kernel` jobs it takes, started in the order given (put the longest first); the kernels are
    stopped at the end. Returns {name: what the function returned}; an exception is raised again here."""
    from kuril_research.runner.executors import LocalExecutor
    ex = LocalExecutor(threads)
    try:
        futs = {k: ex.submit(f) for k, f in jobs.items()}
        return {k: f.result() for k, f in futs.items()}
    finally: ex.close()


def run_to_check_cell(report, values):
    """Execute an analysis' code cells in this process up to and including its check cell (the cell calling
    `check_parameters(`), with `values` injected after the parameters cell as papermill would. Returns None when the
    check cell passes, else the exception it raised; fails the test when a cell before it raises. Each cell's source is
    recorded in `In`, as IPython does, so that `check_parameters` tells the notebook's own names from injected ones."""
    cells = [c for c in json.loads((ANALYSES / f"{report}.ipynb").read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    ns = {"__name__": "__main__", "In": [""]}
    cwd = os.getcwd()
    os.chdir(ANALYSES)
    try:
        for c in cells:
            ns["In"].append(src(c))
            try: exec(compile(src(c), f"{report} cell", "exec"), ns)
            except Exception as e:
                assert "check_parameters(" in src(c), f"{report}: failed outside the check cell: {e!r}"
                return e
            if "parameters" in c["metadata"].get("tags", []): ns.update(values)
            if "check_parameters(" in src(c): return None
    finally:
        os.chdir(cwd)
    raise AssertionError(f"{report}: no cell calls check_parameters(")


def assert_check_cell_rejects(report, values, message, ename="ParameterError"):
    "Run to the check cell in this process: it raises `ename` (the check cell, no earlier one) with `message` in its text."
    err = run_to_check_cell(report, values)
    assert err is not None, f"{report} with {values}: the check cell passed"
    assert type(err).__name__ == ename and message in str(err), repr(err)
    return err


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
    assert not [t for _, o in outputs(nb) if o.get("output_type") == "execute_result" for t in [str(o.get("data", {}).get("text/plain", ""))]
                if "<matplotlib." in t], "a cell shows a matplotlib object's repr (its last line returns one)"
    twice = re.search(r".{0,60}&amp;(#x?[0-9a-fA-F]+|amp|lt|gt|quot|apos);.{0,20}", text(nb))
    assert not twice, f"text escaped twice (a reader sees the entity): {twice.group(0)!r}"


FINDING = "kuril_finding"  # the output metadata key `reporting.finding` and `reporting.key_numbers(finding=...)` set


def _shows(o, caption):
    "Does the output display a table with this caption (as `reporting.table_html` writes it)?"
    h = o.get("data", {}).get("text/html", "")
    return f"<strong>{caption}</strong>" in ("".join(h) if isinstance(h, list) else h)


def assert_first_screen(nb):
    """The executed notebook opens as a reader needs it: a title cell that asks the question; then, as the first thing
    shown, the finding (question, answer or verdict, key number); the key numbers table; a figure, with at most one
    section heading before it; and only then, in an `## Appendix` section at the end, the parameters, the sources and
    the version stamp. Returns the finding's metadata."""
    cells = nb["cells"]
    title = src(cells[0])
    assert cells[0]["cell_type"] == "markdown" and title.startswith("# "), "the first cell is not the report's title"
    assert "?" in title, "the title cell asks no question"
    shown = [(i, o) for i, c in enumerate(cells) if c["cell_type"] == "code" for o in c.get("outputs", [])
             if o.get("output_type") in ("display_data", "execute_result", "stream")]
    assert shown, "the notebook shows nothing"
    i0, first = shown[0]
    f = first.get("metadata", {}).get(FINDING)
    assert f, f"the first thing shown (cell {i0}) is not the finding (reporting.finding): {text({'cells': [cells[i0]]})[:200]!r}"
    assert all(f.get(k) for k in ("question", "answer", "number")), f"the finding lacks a question, answer or number: {f}"
    key = next((i for i, o in shown if _shows(o, "Key numbers")), None)
    fig = next((i for i, o in shown if "image/png" in o.get("data", {})), None)
    assert key is not None, "no key numbers table"
    assert fig is not None and key <= fig, f"no figure after the key numbers (key numbers in cell {key}, first figure in cell {fig})"
    heads = [i for i in range(key + 1, fig) if cells[i]["cell_type"] == "markdown" and src(cells[i]).lstrip().startswith("## ")]
    assert len(heads) <= 1, f"the first figure (cell {fig}) comes after {len(heads)} sections: it is not on the first screen"
    assert not any(_shows(o, "Parameters") for i, o in shown if i < fig), "the parameters are shown before the main figure, not in the appendix"
    app = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and re.match(r"\s*## Appendix", src(c))]
    assert len(app) == 1, f"{len(app)} '## Appendix' headings (one expected)"
    assert app[0] > fig, "the appendix comes before the main figure"
    later = [k for k in range(app[0] + 1, len(cells)) if cells[k]["cell_type"] == "markdown" and re.match(r"\s*#{1,2} ", src(cells[k]))]
    assert not later, f"a section follows the appendix: {src(cells[later[0]]).splitlines()[0]!r}"
    for cap in ("Parameters", "Sources"):
        at = [i for i, o in shown if _shows(o, cap)]
        assert at and min(at) > app[0], f"the {cap.lower()} table is not in the appendix"
    return f


def assert_published_beside(nb, cited:list, not_cited:list):
    """The "Published estimates beside this one" section heads its table with this page's headline, the number the
    finding states, cites the studies asked for (`cited`, from the `published_estimates` register), not the others
    (`not_cited`), and says why they differ."""
    import html
    cells = nb["cells"]
    head = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and src(c).lstrip().startswith("## Published estimates beside this one")]
    assert len(head) == 1, f"{len(head)} 'Published estimates beside this one' sections (one expected)"
    end = next((k for k in range(head[0] + 1, len(cells)) if cells[k]["cell_type"] == "markdown" and re.match(r"\s*#{1,2} ", src(cells[k]))), len(cells))
    section = cells[head[0] + 1:end]
    shown = text({"cells": section})
    table = re.search(r"<table.*?</table>", shown, re.S)
    assert table, "no table in the section"
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", td)).strip() for td in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0), re.S)]
    assert len(rows) >= 3 and rows[0] == ["study", "what it estimates", "what it reports"], rows[:1]
    number = first_finding(nb)["number"]
    assert rows[1][0].startswith("This page") and rows[1][-1] == number, (number, rows[1])
    assert all(any(c in r[0] for r in rows[2:]) for c in cited), (cited, rows)
    assert not any(c in table.group(0) for c in not_cited), not_cited
    assert "Why they differ" in shown + "".join(src(c) for c in section if c["cell_type"] == "markdown")


def first_finding(nb) -> dict:
    "The finding's metadata (`reporting.finding`) of the first thing the notebook shows."
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            if o.get("output_type") in ("display_data", "execute_result", "stream"): return o.get("metadata", {}).get(FINDING) or {}
    return {}
