"""The build steps for the API snapshots (build.api): e-Stat and UN Comtrade answers in the services' documented formats,
written by `kuril data update` as snapshots, become `jp_ru_trade_monthly` and `jp_ru_trade_hs_chapters` with their
units; without a snapshot the build says so in one line and data/ is what it is today; a malformed snapshot stops the
build with one line naming file, line and column; the manifest records the snapshot files the build read; and a new
vintage changes exactly the tables built from it, so the runner's cache reruns exactly the reports that read them."""
import csv, hashlib, io, json, shutil
from pathlib import Path
import pandas as pd
import pytest
import responses
from conftest import kuril, ROOT
from kuril_research.build import api as A, snapshots as S, update as U
from kuril_research.build.core import build_package, run_steps
from kuril_research.build.fetch import verify

ESTAT_FILE = "estat_jp_trade_monthly_by_partner_commodity.csv"
CT_FILE = "comtrade_jp_ru_hs2_monthly.csv"
API_STEPS = ["jp_ru_trade_monthly", "jp_ru_trade_hs_chapters"]
nosleep = lambda s: None

@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("ESTAT_APP_ID", "estatsecretappid")
    monkeypatch.setenv("ESTAT_STATS_DATA_ID", "0003425295")
    monkeypatch.setenv("COMTRADE_API_KEY", "comtradesecretkey")

def tree(folder:Path) -> dict:
    "Every file under `folder` (relative path -> sha256)."
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}

# %% e-Stat getStatsData (JSON, API 3.0), two partners: Russia (224) and China (105)
def estat_json(values:list) -> dict:
    "A getStatsData answer as e-Stat documents it: RESULT, PARAMETER, STATISTICAL_DATA with CLASS_INF and DATA_INF."
    return {"GET_STATS_DATA": {"RESULT": {"STATUS": 0, "ERROR_MSG": "正常に終了しました。", "DATE": "2026-12-04T10:00:00.000+09:00"},
            "PARAMETER": {"LANG": "J", "STATS_DATA_ID": "0003425295", "DATA_FORMAT": "J", "START_POSITION": 1, "METAGET_FLG": "Y"},
            "STATISTICAL_DATA": {"RESULT_INF": {"TOTAL_NUMBER": len(values), "FROM_NUMBER": 1, "TO_NUMBER": len(values)},
                "TABLE_INF": {"@id": "0003425295", "STAT_NAME": {"@code": "00350300", "$": "普通貿易統計"}},
                "CLASS_INF": {"CLASS_OBJ": [
                    {"@id": "cat01", "@name": "輸出入", "CLASS": [{"@code": "1", "@name": "輸出"}, {"@code": "2", "@name": "輸入"}]},
                    {"@id": "cat02", "@name": "品目", "CLASS": [{"@code": "00", "@name": "総額"}, {"@code": "27", "@name": "鉱物性燃料"}]},
                    {"@id": "area", "@name": "国", "CLASS": [{"@code": "224", "@name": "ロシア"}, {"@code": "105", "@name": "中華人民共和国"}]},
                    {"@id": "time", "@name": "時間軸", "CLASS": [{"@code": "2026000808", "@name": "2026年8月"}, {"@code": "2026000909", "@name": "2026年9月"}]}]},
                "DATA_INF": {"NOTE": [{"@char": "-", "$": "該当数値なし"}], "VALUE": values}}}}

def ev(flow, cmd, area, t, v): return {"@tab": "1", "@cat01": flow, "@cat02": cmd, "@area": area, "@time": t, "@unit": "千円", "$": v}

ESTAT_V1 = [ev("1", "00", "224", "2026000808", "8100000"), ev("2", "00", "224", "2026000808", "69000000"), ev("2", "27", "224", "2026000808", "44000000"),
            ev("1", "27", "224", "2026000808", "-"), ev("2", "00", "105", "2026000808", "2000000000"),
            ev("1", "00", "224", "2026000909", "8561234"), ev("2", "00", "224", "2026000909", "70123456"), ev("2", "27", "224", "2026000909", "45000000"),
            ev("2", "00", "224", "2026000000", "900000000")]  # an annual code: not a month, not kept

def estat_update(raw:Path, values:list, day:str) -> dict:
    "`kuril data update estat` against a recorded getStatsData answer; the result for the source."
    with responses.RequestsMock() as r:
        r.add(responses.GET, U.ESTAT_URL, json=estat_json(values))
        return U.update(raw, ["estat"], day=day, options={"estat": {"sleep": nosleep}})[0]

# %% UN Comtrade (comtradeapicall getFinalData, API v1 JSON) against a local server
def ct(period, flow, cmd, desc, value, wgt):
    "One record of a Comtrade v1 data answer, with the fields its documentation lists."
    return {"typeCode": "C", "freqCode": "M", "refPeriodId": int(period + "01"), "refYear": int(period[:4]), "refMonth": int(period[4:]), "period": period,
            "reporterCode": 392, "reporterISO": "JPN", "reporterDesc": "Japan", "flowCode": flow, "flowDesc": {"M": "Import", "X": "Export"}[flow],
            "partnerCode": 643, "partnerISO": "RUS", "partnerDesc": "Russian Federation", "partner2Code": 0, "classificationCode": "H6",
            "isOriginalClassification": True, "cmdCode": cmd, "cmdDesc": desc, "aggrLevel": 0 if cmd == "TOTAL" else 2, "isLeaf": False,
            "customsCode": "C00", "mosCode": "0", "motCode": 0, "qtyUnitCode": -1, "qty": 0, "isQtyEstimated": False, "netWgt": wgt,
            "isNetWgtEstimated": False, "grossWgt": 0, "cifvalue": value if flow == "M" else None, "fobvalue": value if flow == "X" else None,
            "primaryValue": value, "legacyEstimationFlag": 0, "isReported": True, "isAggregate": True}

CT_V1 = [ct("202608", "M", "TOTAL", "All Commodities", 470000000.0, None), ct("202608", "M", "27", "Mineral fuels, mineral oils", 300000000.0, 500000000.0),
         ct("202608", "X", "87", "Vehicles other than railway", 58000000.5, 9100000.0), ct("202609", "M", "27", "Mineral fuels, mineral oils", 310000000.5, 512345678.0)]

def comtrade_update(server, raw:Path, rows:list, day:str) -> dict:
    "`kuril data update comtrade` against a recorded answer; the result for the source."
    server.clear()
    server.expect_request("/data/v1/get/C/M/HS").respond_with_json({"elapsedTime": "0.2 secs", "count": len(rows), "data": rows, "error": ""})
    return U.update(raw, ["comtrade"], day=day, options={"comtrade": {"periods": ["202608", "202609"], "sleep": nosleep}})[0]

def field(dp, table, name):
    r = next(r for r in dp["resources"] if r["name"] == table)
    return next(f for f in r["schema"]["fields"] if f["name"] == name)

# %% snapshots become tables, with their units
def test_estat_snapshot_becomes_jp_ru_trade_monthly(tmp_path):
    raw = tmp_path / "raw"; raw.mkdir()
    assert estat_update(raw, ESTAT_V1, "2026-12-04")["status"] == "updated"
    dp = build_package(raw, tmp_path / "data", only=["jp_ru_trade_monthly"])
    df = pd.read_csv(tmp_path / "data/jp_ru_trade_monthly.csv", dtype=str, keep_default_na=False)
    assert list(df.columns) == ["month", "flow", "commodity_code", "commodity", "value", "stats_data_id", "source_id"]
    assert len(df) == 7 and set(df.source_id) == {"estat_jp_trade_api"}  # Russia only; the annual code and China dropped
    cell = df[(df.month == "2026-09") & (df.flow == "imports") & (df.commodity_code == "27")]
    assert cell.value.tolist() == ["45000000.0"] and cell.commodity.tolist() == ["鉱物性燃料"]
    assert df[(df.month == "2026-08") & (df.flow == "exports") & (df.commodity_code == "27")].value.tolist() == [""]  # e-Stat's dash
    assert field(dp, "jp_ru_trade_monthly", "value")["unit"] == "JPY thousands"
    r = next(r for r in dp["resources"] if r["name"] == "jp_ru_trade_monthly")
    snap = "econ/jp_estat_trade_api/2026-12-04"
    assert r["coverage"]["temporal"] == "2026-08 to 2026-09" and r["coverage"]["snapshot"] == f"{snap} (accessed 2026-12-04)"
    assert [i["path"] for i in r["inputs"]] == [f"{snap}/SNAPSHOT.json", f"{snap}/{ESTAT_FILE}"]
    assert all(i["sha256"] == S.file_sha256(raw / i["path"]) for i in r["inputs"])
    src = pd.read_csv(tmp_path / "data/sources.csv", dtype=str).set_index("source_id").loc["estat_jp_trade_api"]
    assert src.raw_folder == "econ/jp_estat_trade_api" and "getStatsData" in src.location

def test_comtrade_snapshot_becomes_jp_ru_trade_hs_chapters(tmp_path, comtrade_server):
    from kuril_research.validate import frictionless_report
    raw = tmp_path / "raw"; raw.mkdir()
    assert comtrade_update(comtrade_server, raw, CT_V1, "2026-12-04")["status"] == "updated"
    dp = build_package(raw, tmp_path / "data", only=["jp_ru_trade_hs_chapters"])
    df = pd.read_csv(tmp_path / "data/jp_ru_trade_hs_chapters.csv", dtype=str, keep_default_na=False)
    assert list(df.columns) == ["month", "flow", "hs_chapter", "description", "value", "net_weight", "is_reported", "source_id"]
    assert df[["month", "flow", "hs_chapter", "value"]].values.tolist() == [
        ["2026-08", "exports", "87", "58000000.5"], ["2026-08", "imports", "27", "300000000.0"], ["2026-08", "imports", "TOTAL", "470000000.0"],
        ["2026-09", "imports", "27", "310000000.5"]]
    assert field(dp, "jp_ru_trade_hs_chapters", "value")["unit"] == "USD, current prices" and field(dp, "jp_ru_trade_hs_chapters", "net_weight")["unit"] == "kg"
    r = next(r for r in dp["resources"] if r["name"] == "jp_ru_trade_hs_chapters")
    assert [i["path"] for i in r["inputs"]] == ["econ/comtrade_jp_ru_api/2026-12-04/SNAPSHOT.json", f"econ/comtrade_jp_ru_api/2026-12-04/{CT_FILE}"]
    frictionless_report(tmp_path / "data")  # the peer validator accepts the tables and their sources

def test_the_newest_snapshot_is_read(tmp_path):
    raw = tmp_path / "raw"; raw.mkdir()
    estat_update(raw, ESTAT_V1, "2026-12-04")
    estat_update(raw, ESTAT_V1[:-1] + [ev("1", "00", "224", "2026001010", "9000000")], "2026-12-20")
    tables, inputs = run_steps(raw, only=["jp_ru_trade_monthly"])
    assert tables[0].df.month.max() == "2026-10" and inputs["jp_ru_trade_monthly"][1]["path"].startswith("econ/jp_estat_trade_api/2026-12-20/")

# %% absent: skipped, saying so
def test_absent_snapshots_are_skipped_saying_so(tmp_path, capsys):
    assert run_steps(tmp_path, only=API_STEPS) == ([], {})
    assert capsys.readouterr().out.splitlines() == [
        "skipped jp_ru_trade_monthly: no estat snapshot in econ/jp_estat_trade_api/ (run `kuril data update estat` with ESTAT_APP_ID and ESTAT_STATS_DATA_ID set)",
        "skipped jp_ru_trade_hs_chapters: no comtrade snapshot in econ/comtrade_jp_ru_api/ (run `kuril data update comtrade` with COMTRADE_API_KEY set)"]

def test_build_without_snapshots_says_so_and_data_is_unchanged(raw_dir, tmp_path, settings):
    "`kuril data build` on the raw folder (no API snapshots) prints the two skip lines and gives exactly the committed data/."
    assert not (raw_dir / "econ/jp_estat_trade_api").exists() and not (raw_dir / "econ/comtrade_jp_ru_api").exists()
    r = kuril("data", "build", "--raw", str(raw_dir), "--data", str(tmp_path / "data"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == [A.skip_message(t) for t in API_STEPS]
    assert tree(tmp_path / "data") == tree(settings.data_dir)

# %% malformed: exit 2, one line naming file, line and column, data/ untouched
def edit_csv(path:Path, line:int, column:str, value:str):
    "Set one cell of a CSV (line 1 = the header)."
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO(); csv.writer(out, lineterminator="\n").writerows(rows); path.write_text(out.getvalue(), encoding="utf-8")

E = f"econ/jp_estat_trade_api/2026-12-04/{ESTAT_FILE}"
C = f"econ/comtrade_jp_ru_api/2026-12-04/{CT_FILE}"

@pytest.mark.parametrize("rel,edit,message", [
    (E, lambda p: edit_csv(p, 3, "value", "8,5x"), f"{E} line 3 column value: '8,5x' — expected a number"),
    (E, lambda p: edit_csv(p, 2, "unit", "円"), f"{E} line 2 column unit: '円' is not one of 千円"),
    (E, lambda p: edit_csv(p, 2, "month", "2026-13"), f"{E} line 2 column month: '2026-13' — expected a month YYYY-MM"),
    (E, lambda p: p.write_text(p.read_text(encoding="utf-8").rstrip("\n").rsplit(",", 2)[0] + "\n", encoding="utf-8"), f"{E} line 9: 8 fields, the header has 10"),
    (C, lambda p: edit_csv(p, 2, "reporter_iso3", "CHN"), f"{C} line 2 column reporter_iso3: 'CHN'; the table should be Japan-reported"),
    (C, lambda p: edit_csv(p, 3, "flow_code", "RX"), f"{C} line 3 column flow_code: 'RX' is not one of X, M"),
    (C, lambda p: (p.parent / "SNAPSHOT.json").write_text('{"source": "comtrade", "acc'), "econ/comtrade_jp_ru_api/2026-12-04/SNAPSHOT.json line 1: not valid JSON"),
    (C, lambda p: p.unlink(), f"econ/comtrade_jp_ru_api/2026-12-04: incomplete snapshot, {CT_FILE} missing"),
], ids=["estat-value", "estat-unit", "estat-month", "estat-truncated", "comtrade-reporter", "comtrade-flow", "snapshot-json", "incomplete"])
def test_malformed_snapshot_stops_the_build(tmp_path, data_copy, comtrade_server, rel, edit, message):
    raw = tmp_path / "raw"; raw.mkdir()
    estat_update(raw, ESTAT_V1, "2026-12-04"); comtrade_update(comtrade_server, raw, CT_V1, "2026-12-04")
    edit(raw / rel)
    before = tree(data_copy)
    r = kuril("data", "build", "--raw", str(raw), "--data", str(data_copy))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stdout + r.stderr
    assert r.stderr.startswith("kuril: error: ") and message in r.stderr, r.stderr
    assert tree(data_copy) == before and sorted(p.name for p in data_copy.parent.iterdir()) == ["data", "raw"]

# %% the manifest records the snapshot files the build read
def test_manifest_marks_the_snapshot_files_the_build_read(tmp_path):
    from test_data_snapshots import make_raw
    raw = make_raw(tmp_path)
    estat_update(raw, ESTAT_V1, "2026-12-04")
    estat_update(raw, ESTAT_V1[:-1] + [ev("1", "00", "224", "2026001010", "9000000")], "2026-12-20")
    build_package(raw, tmp_path / "data", only=["jp_ru_trade_monthly"])
    reads = S.build_reads(tmp_path / "data/datapackage.json")
    m = S.make_manifest(raw, reads)
    status = {f["path"]: f["build"] for f in m["files"] if f["kind"] == "api-snapshot"}
    new, old = "econ/jp_estat_trade_api/2026-12-20", "econ/jp_estat_trade_api/2026-12-04"
    assert status == {f"{new}/{ESTAT_FILE}": "reads", f"{new}/SNAPSHOT.json": "reads", f"{new}/REVISIONS.md": "planned",
                      f"{old}/{ESTAT_FILE}": "unread", f"{old}/SNAPSHOT.json": "unread", f"{old}/REVISIONS.md": "unread"}
    sources = pd.read_csv(tmp_path / "data/sources.csv", dtype=str)
    mine = sources[sources.source_id == "estat_jp_trade_api"]
    assert S.check_sources({"files": [f for f in m["files"] if f["kind"] == "api-snapshot"]}, mine) == ([], [])
    assert f"{new}/{ESTAT_FILE}: no source record has raw_folder econ/jp_estat_trade_api" in \
        S.check_sources({"files": [f for f in m["files"] if f["kind"] == "api-snapshot"]}, mine.iloc[:0])[0]

# %% the whole package: new vintages change exactly their tables; a rebuild from verified snapshots is byte-identical
def raw_farm(raw_dir:Path, dest:Path) -> Path:
    "The raw folder, linked file by file into `dest`, with room for API snapshot folders under econ/."
    dest.mkdir()
    for p in raw_dir.iterdir():
        if p.name == "econ":
            (dest / "econ").mkdir()
            for q in p.iterdir(): (dest / "econ" / q.name).symlink_to(q)
        else: (dest / p.name).symlink_to(p)
    return dest

@pytest.mark.slow  # two full builds (about two minutes); `make test-slow` and CI run it
def test_vintages_change_exactly_their_tables(raw_dir, tmp_path, settings, comtrade_server, capsys):
    """With snapshots the package gains the two tables and two sources records, and nothing else changes; a new e-Stat
    vintage then changes `jp_ru_trade_monthly` only (by the runner's table hashes). The snapshots pass `verify` against
    the manifest entries `update` wrote, and a build from a verified copy gives the same bytes."""
    from kuril_research.runner.cache import table_hashes
    raw = raw_farm(raw_dir, tmp_path / "raw")
    entries = estat_update(raw, ESTAT_V1, "2026-12-04")["entries"] + comtrade_update(comtrade_server, raw, CT_V1, "2026-12-04")["entries"]
    a = tmp_path / "a" / "data"
    build_package(raw, a)
    assert "skipped" not in capsys.readouterr().out
    committed, built = tree(settings.data_dir), tree(a)
    assert {k for k in built if built[k] != committed.get(k)} == {"datapackage.json", "sources.csv", "jp_ru_trade_monthly.csv", "jp_ru_trade_hs_chapters.csv"}
    names = [r["name"] for r in json.loads((a / "datapackage.json").read_text())["resources"]]
    old, new = table_hashes(settings.data_dir, names), table_hashes(a, names)
    assert {n for n in names if old[n] != new[n]} == {"sources", *API_STEPS}
    assert old["jp_ru_trade_monthly"] == "missing"
    # a verified copy of the snapshots builds the same API tables, byte for byte
    assert verify(raw, {"files": entries}) == []
    copy = raw_farm(raw_dir, tmp_path / "copy")
    for d in ("jp_estat_trade_api", "comtrade_jp_ru_api"): shutil.copytree(raw / "econ" / d, copy / "econ" / d)
    assert verify(copy, {"files": entries}) == []
    build_package(copy, tmp_path / "c" / "data", only=API_STEPS)
    assert {k: v for k, v in tree(tmp_path / "c" / "data").items() if k.startswith("jp_ru_")} == {k: v for k, v in built.items() if k.startswith("jp_ru_")}
    # a new e-Stat vintage: only the table built from it changes (its source record does not name the vintage)
    estat_update(raw, ESTAT_V1[:-1] + [ev("1", "00", "224", "2026001010", "9000000")], "2026-12-20")
    b = tmp_path / "b" / "data"
    build_package(raw, b)
    again = table_hashes(b, names)
    assert {n for n in names if again[n] != new[n]} == {"jp_ru_trade_monthly"}
