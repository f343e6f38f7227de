"The polgeo tables of the data package: the merged event timeline, the islands, the claims register, the geometry."
import csv, hashlib, json, re, shutil
import pytest
from conftest import kuril
from kuril_research.build import events as bp
from kuril_research.build.islands import FORMER_RESIDENTS_FILE
from kuril_research.build import dispute as bd
from kuril_research.build.core import build_package, curated_path
from kuril_research.data import load
from kuril_research.claims import check_tables
from kuril_research.errors import DataFormatError, RawError, ValidationError
from kuril_research.validate import frictionless_report
from kuril_research.build.raw import patched_copy

STEPS = ["compiled", "politics", "dispute", "geometry"]
# Feature counts of the raw GeoJSON extracts, as their PROVENANCE.md lists them.
FEATURES = {"islands_geometry": 7, "disputed_area_geometry": 1, "land_geometry": 12, "kuril_arc_geometry": 13, "countries_geometry": 2}


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f: return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def built(raw_dir, tmp_path_factory):
    "The polgeo steps built into a scratch package folder."
    out = tmp_path_factory.mktemp("polgeo") / "data"
    build_package(raw_dir, out, only=STEPS)
    return out


@pytest.fixture
def package(settings):
    "The committed data package (the tests that follow need no raw sources)."
    if not (settings.data_dir / "events.csv").is_file(): pytest.fail("data/ has no events table: run `kuril data build`")
    return settings.data_dir


@pytest.fixture
def curated(tmp_path, monkeypatch):
    "A scratch copy of kuril_research/curated/ that the polgeo steps read instead of the real one."
    dst = tmp_path / "curated"
    shutil.copytree(curated_path("claims.csv").parent, dst)
    def fake(name):
        p = dst / name
        if not p.is_file(): raise RawError(f"curated input kuril_research/curated/{name} not found")
        return p
    from kuril_research.build import claims
    for m in (bp, claims): monkeypatch.setattr(m, "curated_path", fake)
    return dst


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ---- the merged timeline -------------------------------------------------------------------------------------

def test_no_duplicate_events(package):
    ev = load("events", package)
    absorbed = {i for v in ev.also_in.dropna() for i in v.split(";")}
    assert not absorbed & set(ev.event_id), "a merged record survives as its own event"
    assert not ev.duplicated(["date", "description"]).any()
    # Events of one category on overlapping dates must have been reviewed as different events.
    dated = ev.dropna(subset=["date"])
    rows = list(dated.itertuples())
    for a, b in ((a, b) for i, a in enumerate(rows) for b in rows[i + 1:] if a.event_id[0] != b.event_id[0]):
        if a.category == b.category and a.date <= b.end_date and b.date <= a.end_date:
            noted = f"not the same event as {b.event_id}" in str(a.notes) or f"not the same event as {a.event_id}" in str(b.notes)
            assert noted, f"{a.event_id} and {b.event_id} look like one event"


def test_merge_keeps_disagreements(package, raw_dir):
    "Where two merged records date an event differently, the event keeps both dates."
    raw = {r["event_id"]: r["date"] for r in _rows(raw_dir / bp.COMPILATIONS["dispute_timeline"][0])}
    raw |= {r["event_id"]: r["date"] for r in _rows(raw_dir / bp.COMPILATIONS["military_events"][0])}
    raw |= {f"R{i:03d}": r["date"] for i, r in enumerate(_rows(raw_dir / bp.COMPILATIONS["relations_events"][0]), 1)}
    ev = load("events", package)
    merged = ev[ev.also_in.notna()]
    assert len(merged) >= 15
    differing = 0
    for r in merged.itertuples():
        dates = {raw[r.event_id]} | {raw[o] for o in r.also_in.split(";")}
        assert r.date_as_given in dates
        if len(dates) > 1:
            differing += 1
            for d in dates: assert d in r.notes, f"{r.event_id}: date {d} lost"
    assert differing >= 5
    e021 = ev.set_index("event_id").loc["E021"]
    assert "low-reliability" in e021.notes and e021.also_source_id


def test_categories_in_vocabulary(package, raw_dir):
    ev = load("events", package)
    assert set(ev.category.astype(str)) <= set(bp.CATEGORIES)
    assert {t for v in ev.tags for t in v.split(";")} <= set(bp.TAGS)
    cats = load("event_categories", package)
    mapped = set(zip(cats.compilation.astype(str), cats.source_category))
    for name, (rel, _, _) in bp.COMPILATIONS.items():
        for i, r in enumerate(_rows(raw_dir / rel), 2):
            if name == "sanctions_senders":  # only Russia's measures against Japan, cited by a page, are events
                if r["iso3"] != "JPN" or r["basis"] not in bp.SENDER_EVENT_BASES or not r["source_url_or_repo_path"].startswith("http"): continue
                r = {"category": r["basis"]}
            assert (name, r["category"]) in mapped, f"{rel} line {i}: category {r['category']!r} unmapped"
    groups = {"treaty", "war_occupation", "summit_declaration", "island_visit", "sanctions", "counter_measure", "economic_agreement", "military"}
    assert groups <= set(ev.category.astype(str)), "a report group has no event"


def test_event_ids_stable_across_builds(built, raw_dir, tmp_path, package):
    again = tmp_path / "data"
    build_package(raw_dir, again, only=STEPS)
    for f in sorted(p.name for p in built.iterdir()):
        assert (built / f).read_bytes() == (again / f).read_bytes(), f"{f} differs between two builds"
    committed = [r["event_id"] for r in _rows(package / "events.csv")]
    assert [r["event_id"] for r in _rows(again / "events.csv")] == committed


def test_events_the_analyses_need(package):
    ev = load("events", package).set_index("event_id")
    need = {"E015": ("island_visit", "2010-11"), "E019": ("summit_declaration", "2016-05"), "E021": ("summit_declaration", "2016-12"),
            "E029": ("diplomatic_rupture", "2022-03"), "R022": ("sanctions", "2014-03"), "R036": ("sanctions", "2022-02")}
    for eid, (cat, month) in need.items():
        assert (ev.at[eid, "category"], ev.at[eid, "date"].strftime("%Y-%m")) == (cat, month), eid
    assert "eight-point" in ev.at["E019", "description"] and "Medvedev" in ev.at["E015", "description"]
    assert ev[(ev.category == "sanctions") & (ev.date.dt.year == 2014)].shape[0] >= 4


# ---- the islands ---------------------------------------------------------------------------------------------

def test_1945_former_residents_total(package):
    fr = load("former_residents", package)
    p45 = fr[(fr.date == "1945-08-15") & (fr.measure == "population")]
    total_row = int(p45[p45.area_type == "total"].value.iloc[0])
    assert int(p45[p45.area_type.isin(["islet", "island"])].value.sum()) == total_row
    habomai = p45[p45.island == "Habomai"]
    assert int(habomai[habomai.area_type == "islet"].value.sum()) == int(habomai[habomai.area_type == "subtotal"].value.iloc[0])
    pop = load("population", package)
    four = pop[(pop.year == 1945) & (pop.measure == "japanese_residents") & pop.area.str.startswith("Four islands")]
    assert int(four.population.iloc[0]) == total_row
    sv = load("former_residents_survivors", package)
    sub = fr[(fr.area_type == "total") & (fr.measure == "former_residents_subtotal")].value.iloc[0]
    assert int(sv[sv.series == "cabinet_office"].former_residents.iloc[0]) == int(sub)


def test_bad_former_residents_total_fails_build(raw_dir, tmp_path):
    src = tmp_path / "sources"
    shutil.copytree(raw_dir, src)
    f = src / FORMER_RESIDENTS_FILE
    f.chmod(0o644)
    _edit(f, "Total (合計),3124,17291", "Total (合計),3124,17290")
    with pytest.raises(ValidationError, match=r"northern_territories_former_residents_by_island\.csv line 11 column population_1945_08_15: total 17290"):
        build_package(src, tmp_path / "data", only=STEPS)


# ---- the claims register -------------------------------------------------------------------------------------

def test_claims_documents_resolve(package):
    claims, sources = load("claims", package), load("sources", package)
    assert set(claims.document) <= set(sources.source_id)
    assert (claims.document == claims.source_id).all()
    tables = {r["name"] for r in json.loads((package / "datapackage.json").read_text(encoding="utf-8"))["resources"]}
    assert {t for v in claims.check_table for t in check_tables(v)} <= tables
    assert claims.claim_id.is_unique


def test_news_claims_as_the_article_states_them(package, raw_dir):
    "The article's figures, read from its text, are in the register with the same values."
    text = (raw_dir / "news/news24-putin-abe-seek-progress-on-island-row.txt").read_text(encoding="utf-8")
    story = text.split("We live in a world where facts and fiction get blurred")[0]
    pct = float(re.search(r"fell by (\d+)%", story).group(1))
    bn = float(re.search(r"\$(\d+(?:\.\d+)?)bn", story).group(1))
    people = float(re.search(r"some (\d+)\s(\d{3}) Russians", story).expand(r"\1\2"))
    since = float(re.search(r"first trip there since (\d{4})", story).group(1))
    c = load("claims", package)
    news = c[c.document == "news24_putin_abe_2016"].set_index("metric")
    assert news.at["trade_total_change", "stated_value"] == -pct
    assert news.at["trade_total_value", "stated_value"] == bn
    assert news.at["island_population", "stated_value"] == people
    assert news.at["putin_previous_visit_japan", "stated_value"] == since
    assert {"eight_point_plan", "putin_visit_japan", "medvedev_island_visit", "japan_sanctions", "abe_russia_visits"} <= set(news.index)


# ---- the geometry --------------------------------------------------------------------------------------------

def _rings(geom):
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    return [ring for poly in polys for ring in poly]


def test_geometry_is_valid_geojson(package):
    dp = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    geo = {r["name"]: r for r in dp["resources"] if r.get("format") == "geojson"}
    assert {n: r["profile"] for n, r in geo.items()} == dict.fromkeys(FEATURES, "data-resource")
    for name, r in geo.items():
        raw = (package / r["path"]).read_bytes()
        assert r["bytes"] == len(raw) and r["hash"] == "sha256:" + hashlib.sha256(raw).hexdigest()
        fc = json.loads(raw)
        assert fc["type"] == "FeatureCollection" and len(fc["features"]) == FEATURES[name] == r["coverage"]["features"]
        for f in fc["features"]:
            assert f["type"] == "Feature" and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
            for ring in _rings(f["geometry"]):
                assert len(ring) >= 4 and ring[0] == ring[-1]
                for x, y in ring:
                    assert -180 <= x <= 180 and -90 <= y <= 90
                    assert round(x, 4) == x and round(y, 4) == y
        assert len(raw) < 200_000
    islands = json.loads((package / "islands_geometry.geojson").read_bytes())["features"]
    by_rank = {f["properties"]["part_rank_by_area"]: f["properties"] for f in islands}
    assert [by_rank[i]["island"] for i in (1, 2, 3)] == ["Iturup", "Kunashir", "Shikotan"]
    assert {by_rank[i]["island"] for i in (4, 5, 6, 7)} == {"Habomai"}
    fr = load("former_residents", package)
    assert {p["island"] for p in by_rank.values()} <= set(fr.island.astype(str))
    assert all(p["name_ja"] and p["name_ja_latin"] and p["name_ru_latin"] for p in by_rank.values())


def test_geometry_topologically_valid(package):
    shapely = pytest.importorskip("shapely.geometry")
    for name in FEATURES:
        for f in json.loads((package / f"{name}.geojson").read_bytes())["features"]:
            assert shapely.shape(f["geometry"]).is_valid, name


def test_package_passes_frictionless(built):
    rows = frictionless_report(built)
    assert rows["events"] == len(_rows(built / "events.csv")) and "islands_geometry" in rows


# ---- malformed curated inputs and sources fail the build, naming file, line and column ---------------------

@pytest.fixture
def target(tmp_path):
    "A package folder with a sentinel, to show a failed build leaves it as it was."
    d = tmp_path / "out"
    d.mkdir()
    (d / "keep.txt").write_text("untouched")
    return d


def _fails(raw_dir, target, error, pattern):
    with pytest.raises(error, match=pattern):
        build_package(raw_dir, target, only=STEPS)
    assert [p.name for p in target.iterdir()] == ["keep.txt"] and (target / "keep.txt").read_text() == "untouched"


def test_duplicate_claim_id_fails(raw_dir, curated, target):
    lines = (curated / "claims.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (curated / "claims.csv").write_text("".join(lines + [lines[2]]), encoding="utf-8")
    _fails(raw_dir, target, DataFormatError,
           rf"kuril_research/curated/claims\.csv line {len(lines) + 1} columns claim_id: duplicate key \('C002',\) \(first on line 3\)")


def test_unknown_claim_document_fails(raw_dir, curated, target):
    _edit(curated / "claims.csv", "C010,news24_putin_abe_2016", "C010,news24_2016")
    _fails(raw_dir, target, DataFormatError, r"claims\.csv line 11 column document: 'news24_2016' is not a source_id")


def test_unknown_category_fails(raw_dir, curated, target):
    _edit(curated / "event_categories.csv", "relations_events,island-visit,island_visit,", "relations_events,island-visit,island_visits,")
    _fails(raw_dir, target, DataFormatError, r"event_categories\.csv line 21 column category: 'island_visits' is not allowed")


def test_unmapped_category_fails(raw_dir, curated, target):
    text = (curated / "event_categories.csv").read_text(encoding="utf-8")
    (curated / "event_categories.csv").write_text("".join(l for l in text.splitlines(keepends=True) if ",legal-RU," not in l), encoding="utf-8")
    _fails(raw_dir, target, DataFormatError, r"japan_russia_relations_events_1855_2024\.csv line 34 column category: 'legal-RU' has no row")


def test_unreviewed_duplicate_fails(raw_dir, curated, target):
    text = (curated / "event_merge.csv").read_text(encoding="utf-8")
    (curated / "event_merge.csv").write_text("".join(l for l in text.splitlines(keepends=True) if not l.startswith("E018,")), encoding="utf-8")
    _fails(raw_dir, target, ValidationError, r"events: E018 and R026 overlap in time and share a category but are not in kuril_research/curated/event_merge\.csv")


def test_missing_description_fails(raw_dir, curated, target):
    text = (curated / "event_descriptions.csv").read_text(encoding="utf-8")
    (curated / "event_descriptions.csv").write_text("".join(l for l in text.splitlines(keepends=True) if not l.startswith("R047,")), encoding="utf-8")
    _fails(raw_dir, target, DataFormatError, r"event_descriptions\.csv: no description for event\(s\) R047")


def test_malformed_compilation_fails_cli(raw_dir, tmp_path):
    src = tmp_path / "sources"
    shutil.copytree(raw_dir, src)
    f = src / bp.COMPILATIONS["military_events"][0]
    f.chmod(0o644)
    _edit(f, "M003,2016-11-22,day", "M003,2016-11,day")
    r = kuril("data", "build", "--raw", str(src), "--data", str(tmp_path / "data"))
    assert r.returncode == 2 and not (tmp_path / "data").exists()
    assert r.stderr.strip() == ("kuril: error: polgeo/military_infrastructure/kuril_military_infrastructure_events.csv "
                                "line 4 column date: '2016-11' is not a day date")


# ---- the dispute tables ---------------------------------------------------------------------------------------

def test_dispute_tables_shapes(package):
    icow = load("icow_claim_years", package)
    k = icow[icow.claimdy == 82804]
    assert (k.year.min(), k.year.max(), len(k)) == (1952, 2001, 50) and set(k.icowsal) == {12}
    assert set(icow[icow.kuril_claim_inferred].claim) == {828}
    ic = load("icews_dyad_years", package)
    assert len(ic) == 338 and (ic.year.min(), ic.year.max()) == (2002, 2014)
    assert len(ic[(ic.source_country == "JPN") & (ic.target_country == "RUS")]) == 13
    assert len(load("icews_totals", package)) == 52
    jp = load("opinion_japan", package)
    assert set(jp[jp.year >= 2020].method) == {"mail"} and set(jp[jp.year < 2020].method) == {"face_to_face"}
    assert jp.year.isna().sum() == 1   # the aggregator row without a year stays without one
    ru = load("opinion_russia", package)
    assert ru.value_pct.between(0, 100).all() and ru.year.min() == 1990
    fa = load("fisheries_agreements", package)
    assert sorted(fa[fa.agreement == "four_islands_1998"].season_year.unique()) == [2011, 2012, 2017, 2018, 2021, 2022]
    ex = load("islands_exchanges", package)
    assert ex.value_as_given.notna().all() and ex.value.isna().sum() == 2   # the cancellation and the grave-visit scope


def test_dispute_rows_resolve_to_sources(package):
    ids = set(load("sources", package).source_id)
    for t in ("icow_claim_years", "icews_dyad_years", "icews_totals", "opinion_japan", "opinion_russia",
              "fisheries_agreements", "fishing_seizures", "islands_exchanges"):
        assert set(load(t, package).source_id) <= ids, t
    dp = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    res = {r["name"]: r for r in dp["resources"]}
    assert "inference" in res["icow_claim_years"]["description"]
    assert "1957–1990" in res["events"]["coverage"]["gaps"]
    assert res["opinion_japan"]["coverage"]["method_break"] == 2020


def test_malformed_poll_cell_fails_build(raw_dir, tmp_path):
    src = patched_copy(raw_dir, tmp_path, bd.JP_POLL_FILE, ",affinity_russia,5.0,", ",affinity_russia,5.0.0,")
    with pytest.raises(DataFormatError, match=r"jp_cabinet_office_diplomacy_survey_russia_reported\.csv line 14 column value_pct: '5\.0\.0'"):
        build_package(src.root, tmp_path / "data", only=["dispute"])


def test_malformed_agreement_cell_fails_cli(raw_dir, tmp_path):
    src = patched_copy(raw_dir, tmp_path, bd.AGREEMENT_FILES["four_islands_1998"], "2017,2016-10,2180", "2017,2016-10,2l80")
    r = kuril("data", "build", "--raw", str(src.root), "--data", str(tmp_path / "data"))
    assert r.returncode == 2 and not (tmp_path / "data").exists()
    assert r.stderr.strip() == ("kuril: error: polgeo/fisheries_kurils_agreements_pages/agreement_1998_four_islands_waters_terms.csv "
                                "line 4 column catch_total_t: '2l80' — expected a number (optionally 約…, 億円/万円, a note in brackets)")


def test_unfriendly_list_event_from_the_senders_extract(package):
    "Russia's 2022 listing of Japan comes from the senders extract, dated as its page dates it; no repository-only row becomes an event."
    ev = load("events", package)
    s = ev[ev.event_id.str.startswith("S")]
    assert s.event_id.tolist() == ["S158"]
    r = s.iloc[0]
    assert (str(r.date)[:10], r.date_precision, r.category) == ("2022-03-01", "month", "counter_measure")
    assert r.source_id in set(load("sources", package).source_id)
