"The docs build on small projects made in temporary folders: what it makes of nbdev notebooks, and how it fails."
import html, re, shutil, subprocess, sys
from pathlib import Path
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from kuril_research.site.myst import DocsError
from kuril_research.site.sphinx import build_site
from kuril_research.site.readme import readme_markdown

# myst-parser still uses an API Sphinx 11 will remove; not this project's to fix
pytestmark = pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications")

PYPROJECT = """\
[project]
name = "docs-fixture"
version = "0.0.1"
requires-python = ">=3.11"
[project.urls]
Repository = "https://github.com/example/docs-fixture"
Documentation = "https://example.github.io/docs-fixture/"
[tool.nbdev]
title = "docs-fixture"
lib_path = "docs_fixture"
tst_flags = "notest slow"
renderer = "kuril_research.site.myst.DocRenderer"
doc_procs = ["kuril_research.site.myst:quarto_to_myst"]
"""

def _nb(*cells):
    nb = new_notebook(cells=[new_markdown_cell(c[3:]) if c.startswith("md:") else new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb

def make_project(root:Path, notebooks:dict, guides:dict|None=None, reports:list=()) -> Path:
    "A minimal project: pyproject.toml with [tool.nbdev], settings.ini, nbs/, docs/guides/, empty data/ and reports/."
    (root / "nbs" / "analyses").mkdir(parents=True)
    for d in ("data", "reports", "sources"): (root / d).mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    ini = "[paths]\ndata_dir = data\nraw_dir = raw\nreports_dir = reports\n"
    for r in reports:
        nbformat.write(_nb("md:# An analysis", "x: int = 1  # a parameter"), root / "nbs" / "analyses" / f"{r}.ipynb")
        ini += f"\n[report {r}]\nnotebook = nbs/analyses/{r}.ipynb\n"
    (root / "settings.ini").write_text(ini)
    nbs = {"index.ipynb": _nb("md:# docs-fixture\n> A project made by a test", "md:The home page.")} | notebooks
    for name, nb in nbs.items(): nbformat.write(nb, root / "nbs" / name)
    if guides:
        g = root / "docs" / "guides"; g.mkdir(parents=True)
        toc = "\n".join(n.removesuffix(".md") for n in guides)
        (g / "index.md").write_text(f"# Guides\n\n```{{toctree}}\n{toc}\n```\n")
        for name, text in guides.items(): (g / name).write_text(text)
    return root

LIBRARY = _nb("#| default_exp greet",
              "md:# Greet\n> Says hello, for the docs tests",
              "md:Why a greeting: every page needs an example.",
              "#| export\ndef greet(name:str, # who to greet\n         ) -> str:\n    \"Say hello to `name`.\"\n    return f'hello {name}'",
              "md:A call, and its output on the page; see also [`greet`](https://example.github.io/docs-fixture/greet.html#greet).",
              "print(greet('Kunashir'), 6 * 7)",
              "#| hide\nprint('a hidden cell')",
              "#| echo: false\nprint('output without its code')",
              "#| notest\nraise RuntimeError('a notest cell is not run, as in nbdev-test')",
              "md:A link that Quarto would open in a new tab: [nbdev](https://nbdev.fast.ai){target=\"_blank\"}.")

@pytest.fixture(scope="module")
def good_site(tmp_path_factory):
    "The small good project, built in a subprocess — without any network when `unshare -rn` is available."
    root = make_project(tmp_path_factory.mktemp("good"), {"01_greet.ipynb": LIBRARY},
                        guides={"howto.md": "# How to\n\nSee the [API](../api.md) and [greet](../greet.ipynb#greet).\n\n"
                                             "In the repository: [the module map](../../nbs/), [greet's notebook](../../nbs/01_greet.ipynb#greet), "
                                             "[`settings.ini`](../../settings.ini).\n"},
                        reports=["not_run_yet"])
    code = "from kuril_research.site.sphinx import build_site; print(build_site(jobs=1)['pages'])"
    cmd = [sys.executable, "-c", code]
    offline = shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    if offline: cmd = ["unshare", "-rn", *cmd]
    r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return root, root / "_docs", r, offline

def test_build_offline(good_site):
    root, out, r, offline = good_site
    if not offline: pytest.skip("`unshare -rn` is not permitted here: the build ran with the network available")
    assert (out / "index.html").is_file()

def _text(page:str) -> str: return html.unescape(re.sub(r"<[^>]+>", "", page))

def test_library_page_the_nbdev_way(good_site):
    root, out, r, _ = good_site
    page = (out / "greet.html").read_text()
    text = _text(page)
    assert "<h1>Greet" in page and "Says hello, for the docs tests" in text            # title and summary from the title cell
    assert 'id="greet-greet"' in page and "def greet(\n    name:str, # who to greet\n)->str:" in text  # show_doc, with docments
    assert "hello Kunashir 42" in text                                                # the example ran; its output shows
    assert "output without its code" in text and "print('output without" not in text  # #| echo: false hides the code only
    assert "a hidden cell" not in text and "return f'hello" not in text               # #| hide and #| export cells are not shown
    assert "raise RuntimeError" in text                                               # a notest cell is shown, not run
    for quarto in ("{target", "output-file", "#| ", "code-fold", ":::"): assert quarto not in text, quarto
    assert 'href="https://nbdev.fast.ai"' in page and 'href="#greet-greet"' in page   # the hosted-docs link points at the show_doc entry

def test_navigation_guides_data_and_missing_reports(good_site):
    root, out, r, _ = good_site
    home = (out / "index.html").read_text()
    for target in ("guides/index.html", "api.html", "datapackage.html", "reports/index.html"): assert target in home
    assert "not_run_yet" in r.stderr and "make reports" in r.stderr                   # the build says which and how
    reports = _text((out / "reports" / "index.html").read_text())
    assert "not in reports/: not_run_yet. Produce them with make reports" in reports
    assert "build it with make data" in _text((out / "datapackage.html").read_text())                     # no data package: the page says how to make it
    assert (out / "search.html").is_file() and (out / "searchindex.js").is_file()
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith("_")) == ["data", "docs", "nbs", "pyproject.toml", "reports", "settings.ini", "sources"]

def test_guide_links_to_repository_files_become_site_links(good_site):
    "A guide links repository files (so the links work in the repository); on the site they are the files' pages."
    root, out, _, _ = good_site
    page = (out / "guides" / "howto.html").read_text()
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert "../api.html" in hrefs and "../greet.html#greet" in hrefs
    assert not any("nbs/" in h or "settings.ini" in h for h in hrefs)  # no page for settings.ini: its text stays
    assert "settings.ini" in _text(page)


def test_every_guide_link_resolves_in_the_repository():
    "Each relative link of docs/guides/*.md names a file of the repository (the site build maps them to pages)."
    root = Path(__file__).resolve().parents[1]
    bad = []
    for g in sorted((root / "docs" / "guides").glob("*.md")):
        for target in re.findall(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)", g.read_text(encoding="utf-8")):
            if re.match(r"[a-z][\w+.-]*:|#", target): continue
            if not (g.parent / target.partition("#")[0]).exists(): bad.append(f"{g.name}: {target}")
    assert not bad, bad


def test_raising_cell_fails_naming_notebook_and_cell(tmp_path):
    from conftest import kuril
    bad = _nb("#| default_exp bad", "md:# Bad\n> A notebook whose cell raises", "x = 1", "md:Then:", "y = x / 0")
    root = make_project(tmp_path, {"01_bad.ipynb": bad})
    out = root / "_docs"; out.mkdir(); (out / "index.html").write_text("the last good site")
    r = kuril("docs", "--jobs", "1", cwd=root)
    assert r.returncode == 2, r.stderr
    msg = r.stderr.strip().splitlines()[-1]
    assert msg.startswith("kuril: error: nbs/01_bad.ipynb cell 5 ('y = x / 0') raised ZeroDivisionError: division by zero"), r.stderr
    assert (out / "index.html").read_text() == "the last good site"                  # nothing good is overwritten
    executed = nbformat.read(msg.rsplit(" is ", 1)[1], as_version=4)                 # the traceback is kept where it says
    assert any(o.get("ename") == "ZeroDivisionError" for c in executed.cells for o in c.get("outputs", []))

def test_broken_link_and_missing_image_fail_naming_page_and_target(tmp_path, capsys):
    root = make_project(tmp_path, {}, guides={"broken.md": "# Broken\n\nSee [the map](nowhere.md).\n\n![a map](missing.png)\n"})
    with pytest.raises(DocsError) as e: build_site(root, jobs=1)
    err = capsys.readouterr().err
    assert "docs/guides/broken.md" in str(e.value)
    assert any("docs/guides/broken.md" in l and "nowhere.md" in l for l in err.splitlines()), err
    assert any("docs/guides/broken.md" in l and "missing.png" in l for l in err.splitlines()), err
    assert not (root / "_docs").exists()

def test_broken_raw_html_link_is_caught_after_sphinx(tmp_path):
    "A link Sphinx does not see (raw HTML) is still checked, on the built page."
    nb = _nb("md:# Raw\n> Raw HTML in a notebook", 'md:<a href="gone.html#here">gone</a>')
    root = make_project(tmp_path, {"01_raw.ipynb": nb})
    with pytest.raises(DocsError, match=r"raw\.html: link target gone\.html#here does not exist"): build_site(root, jobs=1)

def test_missing_translator_is_named(tmp_path):
    root = make_project(tmp_path, {})
    (root / "pyproject.toml").write_text(PYPROJECT.replace('doc_procs = ["kuril_research.site.myst:quarto_to_myst"]\n', ""))
    with pytest.raises(DocsError, match=r"\[tool\.nbdev\] doc_procs must include 'kuril_research\.site\.myst:quarto_to_myst'"):
        build_site(root, jobs=1)

def test_readme_from_the_home_page(tmp_path):
    index = _nb("md:# docs-fixture\n> A project made by a test",
                "md:Read [the greeting](01_greet.ipynb) and the [source](https://x.org/a.py){target=\"_blank\"}.")
    root = make_project(tmp_path, {"index.ipynb": index, "01_greet.ipynb": LIBRARY})
    text = readme_markdown(root)
    assert text.startswith("# docs-fixture\n\n> A project made by a test\n")
    assert "[the greeting](https://example.github.io/docs-fixture/greet.html)" in text
    assert "[source](https://x.org/a.py)." in text and "{target" not in text

def test_executed_pages_are_cached_by_content(tmp_path):
    "A second build reuses the executed page of an unchanged notebook; an edit, or a change to the code it imports, runs it again."
    counts = _nb("#| default_exp counts", "md:# Counts\n> Counts its own runs", "open('../runs.txt', 'a').write('x'); print('counted')")
    root = make_project(tmp_path, {"01_counts.ipynb": counts})
    runs = lambda: (root / "runs.txt").read_text()
    build_site(root, jobs=1)
    assert runs() == "x" and "counted" in (root / "_docs" / "counts.html").read_text()
    build_site(root, jobs=1)
    assert runs() == "x", "unchanged: the page comes from the cache"
    assert "counted" in (root / "_docs" / "counts.html").read_text()
    counts.cells[2].source += "; print('again')"
    nbformat.write(counts, root / "nbs" / "01_counts.ipynb")
    build_site(root, jobs=1)
    assert runs() == "xx" and "again" in (root / "_docs" / "counts.html").read_text(), "an edited notebook runs again"
    (root / "data" / "t.csv").write_text("a\n1\n")
    build_site(root, jobs=1)
    assert runs() == "xxx", "a change to the data runs it again"
    assert len(list((root / "_docs-cache").glob("*.ipynb"))) == 2, "only what the last build used is kept"

def test_an_unchanged_site_is_kept_and_a_changed_one_rebuilt(tmp_path):
    "A build from the same staged files keeps the last site (Sphinx does not run again); an edited page rebuilds it."
    root = make_project(tmp_path, {"01_greet.ipynb": LIBRARY})
    assert build_site(root, jobs=1)["rebuilt"]
    page = root / "_docs" / "greet.html"
    before = page.stat().st_mtime_ns
    assert not build_site(root, jobs=1)["rebuilt"], "the same staged files: the site is kept"
    assert page.stat().st_mtime_ns == before
    nb = nbformat.read(root / "nbs" / "01_greet.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A sentence added later."))
    nbformat.write(nb, root / "nbs" / "01_greet.ipynb")
    assert build_site(root, jobs=1)["rebuilt"] and "A sentence added later." in page.read_text()

def test_the_site_lists_the_catalogue_as_it_is_now(tmp_path):
    "A report dropped from settings.ini after the last run is not on the site, and the runner's index there does not link to it."
    from conftest import kuril
    root = make_project(tmp_path, {}, reports=["kept", "dropped"])
    r = kuril("--settings", str(root / "settings.ini"), "run")
    assert r.returncode == 0, r.stderr
    assert "dropped.html" in (root / "reports" / "index.html").read_text()
    ini = root / "settings.ini"
    ini.write_text(ini.read_text().replace("\n[report dropped]\nnotebook = nbs/analyses/dropped.ipynb\n", ""))
    build_site(root, jobs=1)  # the reports folder's index still links to dropped.html: a stale copy would be a broken link
    index = (root / "_docs" / "reports" / "standalone" / "index.html").read_text()
    assert "kept.html" in index and "dropped" not in index
    assert not (root / "_docs" / "reports" / "standalone" / "dropped.html").exists()
