"""The data build and the package checks: bad input stops the build and leaves the package as it was, hand edits
of the package are caught by `kuril data validate` and by `load`, the Frictionless validator accepts the committed
package, and a rebuild from the raw sources reproduces it byte for byte."""
import csv, hashlib, io, shutil, subprocess
from pathlib import Path
import pandas as pd
import pytest
from conftest import kuril, BIN
from kuril_research.errors import ValidationError

def snapshot(folder:Path) -> dict:
    "Every file under `folder` (relative path -> sha256 of its bytes)."
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}

def leftovers(folder:Path) -> list:
    "Scratch folders a build left beside `folder`."
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))

@pytest.fixture
def sources_copy(tmp_path, raw_dir):
    "A scratch copy of the raw folder, to break on purpose."
    dest = tmp_path / "sources"
    shutil.copytree(raw_dir, dest)
    return dest

def failed_build(sources:Path, data:Path) -> str:
    "Run a build that must fail: check exit status 2, one line on stderr and an untouched package; return the line."
    before = snapshot(data)
    r = kuril("data", "build", "--raw", str(sources), "--data", str(data))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith("kuril: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert snapshot(data) == before
    assert leftovers(data) == []
    return r.stderr

# (a) the raw folder is missing
def test_missing_sources_folder(tmp_path, data_copy):
    err = failed_build(tmp_path / "no-sources", data_copy)
    assert f"raw folder {tmp_path / 'no-sources'} not found" in err

# (b) one source file is missing
@pytest.mark.parametrize("rel", [
    "econ/imf_dots_annual_by_reporter_2022snapshot/dots_russia_reported_all_partners_annual_usd_m.csv",
    "econ/jp_ru_trade_reported_figures_pages/sources_index.csv",
    "econ/fx_rub_usd_cbr_official/cbr_usd_rub_official_daily_1992_2023.csv",
])
def test_missing_source_file(sources_copy, data_copy, rel):
    (sources_copy / rel).unlink()
    assert f"raw file {rel} not found" in failed_build(sources_copy, data_copy)

# (c) a source CSV with a malformed row, a non-numeric value or a duplicate key
def edit_lines(path:Path, edit) -> None:
    "Rewrite a text file through `edit(list of lines) -> list of lines` (index 0 = the header, line 1)."
    path.write_text("\n".join(edit(path.read_text(encoding="utf-8").split("\n"))), encoding="utf-8")

def set_cell(lines:list, line:int, column:str, value:str) -> list:
    "The CSV lines with one cell replaced (line 1 = the header)."
    header, row = next(csv.reader([lines[0]])), next(csv.reader([lines[line - 1]]))
    row[header.index(column)] = value
    out = io.StringIO(); csv.writer(out, lineterminator="").writerow(row)
    return lines[:line - 1] + [out.getvalue()] + lines[line:]

BRENT = "econ/eia_brent_wti_spot_datahub/brent-monthly.csv"
DOTS = "econ/imf_dots_annual_by_reporter_2022snapshot/dots_focus_dyads_annual_usd_m.csv"
GDP = "econ/wb_gdp_current_usd_datahub/gdp_current_usd_selected.csv"

@pytest.mark.parametrize("rel,edit,message", [
    (BRENT, lambda ls: ls[:9] + [ls[9] + ",extra"] + ls[10:], f"{BRENT} line 10: 3 fields, the header has 2"),
    (DOTS, lambda ls: set_cell(ls, 5, "value_musd", "17x.6"), f"{DOTS} line 5 column value_musd: '17x.6' — expected a number"),
    (GDP, lambda ls: ls[:2] + [ls[1]] + ls[3:], f"{GDP} line 3 columns iso3, year: duplicate key"),
], ids=["malformed-row", "non-numeric", "duplicate-key"])
def test_bad_source_csv(sources_copy, data_copy, rel, edit, message):
    edit_lines(sources_copy / rel, edit)
    assert message in failed_build(sources_copy, data_copy)

KPLER = "econ/kpler_russia_crude_exports_by_destination_2021_2022/kpler_russia_crude_exports_by_destination_kt.csv"

def test_crude_extract_must_carry_the_byte_copys_figures(tmp_path, raw_dir, settings):
    "Kpler's crude exports are read from the long extract and checked against the publisher's byte copy cell by cell: a figure that differs stops the step at its line, and the committed table is what the raw files give."
    from kuril_research.build.raw import patched_copy, RawDir
    from kuril_research.build.trade import build_russia_crude_exports
    from kuril_research.errors import DataFormatError
    src = patched_copy(raw_dir, tmp_path, KPLER, "2022,RUS,Japan,JPN,1665.742734", "2022,RUS,Japan,JPN,1765.742734")
    with pytest.raises(DataFormatError, match=rf"{KPLER} line \d+ column crude_kt: 1765.742734 differs from the byte copy"):
        build_russia_crude_exports(src)
    built = build_russia_crude_exports(RawDir(raw_dir)).df
    committed = pd.read_csv(settings.data_dir / "russia_crude_exports.csv", keep_default_na=False, na_values=[""])
    key = ["year", "destination_name"]
    m = built.astype({"year": int, "quantity": float}).merge(committed, on=key, how="outer", indicator=True)
    assert (m._merge == "both").all() and len(m) == 86 and (m.quantity_x == m.quantity_y).all()


# (d) hand edits of the package: wrong type, out of range, duplicate primary key, unknown source_id
def edit_table(data:Path, table:str, edit) -> None:
    "Rewrite data/<table>.csv through `edit(frame of strings)`."
    p = data / f"{table}.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    edit(df).to_csv(p, index=False, lineterminator="\n")

def set_value(df, row, col, value):
    df.loc[row - 2, col] = value  # row 1 is the header
    return df

@pytest.mark.parametrize("table,edit,message", [
    ("trade", lambda df: set_value(df, 7, "year", "19x2"), ["data/trade.csv row 7 field year: '19x2' breaks type year"]),
    ("trade", lambda df: set_value(df, 4, "value", "-5.0"), ["data/trade.csv row 4 field value: '-5.0' breaks constraint minimum 0"]),
    ("fx", lambda df: pd.concat([df.iloc[:3], df.iloc[[1]], df.iloc[3:]], ignore_index=True),
     ["data/fx.csv row 5 field source_id,currency,frequency,statistic,period: ", "breaks primary key (duplicate)"]),
    ("brent", lambda df: set_value(df, 3, "source_id", "no_such_source"),
     ["data/brent.csv row 3 field source_id: 'no_such_source' breaks foreign key (sources.source_id)"]),
], ids=["wrong-type", "out-of-range", "duplicate-key", "unknown-source"])
def test_hand_edit_is_caught(data_copy, table, edit, message):
    from kuril_research.data import load
    edit_table(data_copy, table, edit)
    r = kuril("data", "validate", "--data", str(data_copy), "--no-peer")
    assert r.returncode == 2 and r.stderr.startswith("kuril: error: "), r.stdout + r.stderr
    with pytest.raises(ValidationError) as e:
        load(table, data_copy)
    for part in message:
        assert part in r.stderr and part in str(e.value)

# (e) the peer validator accepts the committed package
def test_frictionless_accepts_the_package(settings):
    "The peer validator over the whole package, through `kuril data validate` (Frictionless' Package validation, as its CLI runs it)."
    r = kuril("data", "validate", "--data", str(settings.data_dir))
    assert r.returncode == 0 and "valid" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
    assert "valid (schema checks and the Frictionless peer validation)" in r.stdout, r.stdout[-2000:]

# (f) determinism: a build from the sources is byte-identical to the committed package, which an earlier build wrote
# (so two builds agree byte for byte: a build that varied from run to run would fail here)
def test_build_is_deterministic(tmp_path, raw_dir, settings):
    a = tmp_path / "a" / "data"
    r = kuril("data", "build", "--raw", str(raw_dir), "--data", str(a))
    assert r.returncode == 0, r.stderr
    assert snapshot(a) == snapshot(settings.data_dir), "data/ is not what the sources and the build steps give: run `kuril data build` and commit data/"


def test_every_table_is_read_by_a_report_or_the_library(settings):
    "No dead data: each table of the package is named (as a string) in an analysis notebook's code or a library module outside the build."
    import json, re
    root = settings.data_dir.parent
    names = [r["name"] for r in json.loads((settings.data_dir / "datapackage.json").read_text(encoding="utf-8"))["resources"]]
    code = [s for p in sorted((root / "nbs" / "analyses").glob("*.ipynb"))
            for s in ("".join(c["source"]) for c in json.loads(p.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")]
    code += [p.read_text(encoding="utf-8") for p in sorted((root / "kuril_research").glob("*.py"))]
    unread = [n for n in names if not any(re.search(rf"[\"']{re.escape(n)}[\"']", s) for s in code)]
    assert unread == [], f"tables no report or library module reads: {unread}"
