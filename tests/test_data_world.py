"""The world tables of the data package (`world_trade`, `sanctions_senders`, `gsdb_cases`, `diversion_hubs`): their
shapes, the Japan and Russia rows of the world matrix against the IMF DOTS rows of `trade`, and bad raw cells."""
import pandas as pd
import pytest
from kuril_research import data
from kuril_research.errors import DataFormatError
from kuril_research.build.raw import patched_copy, RawDir
from kuril_research.build import world

def test_shapes():
    w = data.load("world_trade")
    assert list(w.columns) == ["reporter", "partner", "flow", "valuation", "year", "value_usd_m", "flag", "source_id"]
    assert len(w) == 890344 + 978509 + 25550 + 20430  # the three matrix files and the world totals (PROVENANCE.md)
    assert (w.year.min(), w.year.max()) == (1960, 2020)
    assert set(w.reporter[w.reporter.str.startswith("X") & (w.reporter != "XKX")]) == {"XBL", "XSA"}
    assert ((w.flow == "exports") == (w.valuation == "FOB")).all()
    s = data.load("sanctions_senders")
    assert len(s) == 241 and s.line.is_unique and s.source_id.str.match(r"^(page|repo)\.").all()
    assert set(s.source_id) <= set(data.load("sources").source_id)
    g = data.load("gsdb_cases")
    assert len(g) == 1325 and g.case_id.is_unique
    h = data.load("diversion_hubs")
    assert sorted(h[h.episode == 2022].iso3) == ["ARE", "ARM", "CHN", "IND", "KAZ", "KGZ", "TUR"]
    assert list(h[h.episode == 2014].iso3) == ["BLR"]  # the route of the food Russia banned in August 2014
    assert set(h.source_id) <= set(data.load("sources").source_id)
    assert h.set_index("iso3").role["IND"] == "buyer"

def test_japan_russia_cells_equal_trade():
    "Every IMF DOTS row of `trade` reported by Japan or Russia is the same cell in `world_trade`, and the reverse."
    t = data.load("trade")
    t = t[(t.source_id == "imf_dots_2022") & t.reporter.isin(["JPN", "RUS"])]
    w = data.load("world_trade")
    w = w[w.reporter.isin(["JPN", "RUS"]) & w.partner.isin(set(t.partner))]
    key = ["reporter", "partner", "flow", "year"]
    m = t.merge(w, on=key, how="outer", indicator=True)
    assert (m._merge == "both").all(), m[m._merge != "both"].head()
    assert len(m) == len(t) > 1000
    assert (m.value == m.value_usd_m).all()
    assert (m.valuation_x.astype(str) == m.valuation_y.astype(str)).all()
    assert ((m.status == "estimate").fillna(False) == (m.flag == "e").fillna(False)).all()

def test_bad_cell_named(tmp_path, raw_dir):
    src = patched_copy(raw_dir, tmp_path, f"{world.WORLD_DIR}/dots_economies_exports_fob_annual_usd_m.csv",
                       "2011,ABW,AFG,0.096505,", "2011,ABW,AFG,0.09x6505,")
    with pytest.raises(DataFormatError, match=r"dots_economies_exports_fob_annual_usd_m.csv line 2 column value_musd: '0.09x6505' — expected a number"):
        world._iso_file(src, "exports")

def test_unknown_economy_without_code(tmp_path, raw_dir):
    src = patched_copy(raw_dir, tmp_path, f"{world.WORLD_DIR}/dots_economies_without_iso3_annual_usd_m.csv",
                       "1990,Belgium-Luxembourg,,", "1990,Belgium and Luxembourg,,")
    with pytest.raises(DataFormatError, match=r"dots_economies_without_iso3_annual_usd_m.csv line 2 column reporter: 'Belgium and Luxembourg' has no ISO3"):
        world.world_from_dots(src)

def test_hand_edit_of_the_compressed_table_is_caught(tmp_path, settings):
    "A bad cell in world_trade.csv.gz is named by file, row and field, as in the plain CSV tables."
    import gzip, json, shutil
    from kuril_research.validate import validate_table
    from kuril_research.errors import ValidationError
    src = settings.data_dir
    shutil.copy(src / "sources.csv", tmp_path / "sources.csv")
    dp = json.loads((src / "datapackage.json").read_text(encoding="utf-8"))
    dp["resources"] = [r for r in dp["resources"] if r["name"] in ("world_trade", "sources")]
    with gzip.open(src / "world_trade.csv.gz", "rt", encoding="utf-8") as f: lines = [next(f) for _ in range(50)]
    cells = lines[9].split(","); cells[5] = "-1.5"; lines[9] = ",".join(cells)
    with gzip.open(tmp_path / "world_trade.csv.gz", "wt", encoding="utf-8") as f: f.write("".join(lines))
    (tmp_path / "datapackage.json").write_text(json.dumps(dp), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"world_trade.csv.gz row 10 field value_usd_m: '-1.5' breaks constraint minimum 0"):
        validate_table(tmp_path, "world_trade")


def test_russia_trade_imts_has_every_partner_and_agrees_with_trade():
    "Russia's IMTS reports with every partner economy, 2016–2024, in the world matrix's columns; Japan's and the controls' rows are those of `trade`."
    r = data.load("russia_trade_imts")
    assert (r.reporter == "RUS").all() and (int(r.year.min()), int(r.year.max())) == (2016, 2024)
    assert r.partner.nunique() > 150 and not r.partner.isin(["WLD", "RUS"]).any()
    t = data.load("trade")
    t = t[(t.source_id == "imf_imts_rus") & (t.partner != "WLD")]
    key = ["reporter", "partner", "flow", "year"]
    m = t.astype({k: str for k in key[:3]}).merge(r.astype({k: str for k in key[:3]}), on=key, how="left")
    assert len(m) == len(t) > 100 and (m.value.astype(float) == m.value_usd_m).all()

