"""The political, geographic and fact-check analyses with non-default parameters finish without an error and hold
their figures; bad parameters and a broken data table stop them in the parameter-check cell with a one-line message
naming the parameter (or table) and what is allowed.

One good report and one bad parameter go through the real papermill CLI; the other good, default and broken-data runs
go through warm kernels of the report runner (parameters injected by papermill's `parameterize_notebook`), and every
bad parameter is also checked in this process up to the check cell, the only cell it reaches."""
import re, shutil
from pathlib import Path
from functools import partial
import pandas as pd
import pytest

from notebook_runs import (assert_check_cell_rejects, assert_first_screen, assert_ran_clean, assert_stopped_in_check_cell, ROOT, break_cell,
                           cli_values, errors, in_kernel, papermill, run_all, src, text)


GOOD = {  # report: (papermill arguments, at least this many figures)
    "dispute_timeline": (["-p", "start_year", "1991", "-p", "end_year", "2022", "-y", "categories: [summit_declaration, island_visit, sanctions]"], 3),
    "relations_index": (["-p", "start_year", "1992", "-p", "end_year", "2020"], 2),
    "islands_profile": (["-p", "area", "Kunashir"], 5),
    "claims_check": (["-p", "document", "news24_putin_abe_2016"], 2),
}

CLI_GOOD = "dispute_timeline"  # the good run that goes through the papermill CLI (its -p and -y arguments too)

BAD = {  # case: (report, papermill arguments, text the error must contain)
    "unknown name": ("dispute_timeline", ["-p", "start_yaer", "1990"], "unknown parameter start_yaer=1990; this notebook's parameters: start_year, end_year, categories"),
    "wrong type": ("relations_index", ["-r", "start_year", "abc"], "parameter start_year='abc': expected int, got str"),
    "years outside the data": ("relations_index", ["-p", "start_year", "1900"], "parameter start_year=1900: outside the years covered by unga_distances (1957–2024)"),
    "end before start": ("dispute_timeline", ["-p", "start_year", "2000", "-p", "end_year", "1990"], "parameter end_year=1990 is before start_year=2000"),
    "unknown category": ("dispute_timeline", ["-y", "categories: [tready]"], "'tready' is not allowed; allowed: treaty, war_occupation"),
    "no category": ("dispute_timeline", ["-y", "categories: []"], "parameter categories=[]: selects nothing"),
    "empty selection": ("dispute_timeline", ["-p", "start_year", "1860", "-p", "end_year", "1900", "-y", "categories: [island_visit]"],
                        "categories=['island_visit'] select no event; events of these categories lie in 2010–2021"),
    "unknown area": ("islands_profile", ["-p", "area", "Urup"], "parameter area='Urup': 'Urup' is not allowed; allowed: all, Iturup, Kunashir"),
    "unknown document": ("claims_check", ["-p", "document", "nosuch"], "parameter document='nosuch': 'nosuch' is not allowed; allowed: all,"),
}

CLI_BAD = "unknown name"  # the bad parameter that also goes through the papermill CLI and a real kernel's `In`


def broken_events(data):
    "A hand edit that breaks the events table's schema: a category outside the vocabulary."
    break_cell(data, "events", "category", "skirmish")

def changed_geometry(data):
    "The islands GeoJSON edited after the build: it no longer matches its recorded sha256."
    f = data / "islands_geometry.geojson"
    f.write_text(f.read_text(encoding="utf-8").replace('"Iturup"', '"Urup"', 1), encoding="utf-8")

DEFAULT = {  # runs with the catalogue's defaults (or the long view) whose content the tests below check
    "relations_index": [],
    "relations_index_1957": ["-p", "start_year", "1957"],
    "dispute_timeline": [],
}
DEFAULT_REPORT = {"relations_index_1957": "relations_index"}

BROKEN = {"events table": ("dispute_timeline", broken_events), "islands geometry": ("islands_profile", changed_geometry)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, settings):
    """Every good, default and broken-data run and the CLI's bad one: {case: (CompletedProcess or KernelRun, executed
    notebook)}. The two papermill CLI runs first, the others on warm kernels, two threads in all."""
    d = tmp_path_factory.mktemp("papermill")
    out = lambda k: d / (re.sub(r"\W+", "_", k) + ".ipynb")
    jobs = {f"good {CLI_GOOD}": partial(papermill, CLI_GOOD, out(f"good {CLI_GOOD}"), *GOOD[CLI_GOOD][0])}
    r, args, _ = BAD[CLI_BAD]
    jobs[f"bad {CLI_BAD}"] = partial(papermill, r, out(f"bad {CLI_BAD}"), *args)
    jobs |= {f"good {r}": partial(in_kernel, r, out(f"good {r}"), cli_values(args)) for r, (args, _) in GOOD.items() if r != CLI_GOOD}
    jobs |= {f"default {r}": partial(in_kernel, DEFAULT_REPORT.get(r, r), out(f"default {r}"), cli_values(args)) for r, args in DEFAULT.items()}
    for k, (r, breaks) in BROKEN.items():
        data = d / re.sub(r"\W+", "_", k)
        shutil.copytree(settings.data_dir, data)
        breaks(data)
        jobs[f"broken {k}"] = partial(in_kernel, r, out(f"broken {k}"), env={"KURIL_DATA_DIR": str(data)})
    return run_all(jobs, 2)


@pytest.mark.parametrize("report", list(GOOD))
def test_runs_with_other_parameters(runs, report):
    assert_ran_clean(*runs[f"good {report}"], GOOD[report][1])


def test_the_appendix_names_each_table_and_each_source_once(runs):
    "The events table draws on dozens of page sources: its coverage (a paragraph) stands once in the appendix, not beside each of them, and each source has one row."
    import json
    dp = json.loads((ROOT / "data" / "datapackage.json").read_text())
    gaps = next(r for r in dp["resources"] if r["name"] == "events")["coverage"]["gaps"]
    shown = text(runs["good islands_profile"][1]).replace("&quot;", '"').replace("&#x27;", "'")
    assert "Tables used" in shown and shown.count(gaps[:60]) == 1, shown.count(gaps[:60])
    locations = re.findall(r"<td>(https?://[^<]+)</td>", shown)
    assert len(locations) > 50 and len(locations) == len(set(locations)), (len(locations), len(set(locations)))


def test_islands_profile_shows_the_1945_residents_computed_from_the_rows(runs):
    "The report's number for Kunashir equals the sum computed here from the committed table."
    fr = pd.read_csv(ROOT / "data" / "former_residents.csv")
    rows = fr[(fr.island == "Kunashir") & (fr.measure == "population") & fr.area_type.isin(["islet", "island"]) & (fr.date == "1945-08-15")]
    shown = text(runs["good islands_profile"][1])
    assert "Japanese residents, 15 August 1945, Kunashir" in shown and f"{int(rows.value.sum()):,} persons" in shown


def test_claims_check_names_the_reporter_the_news_figures_match(runs):
    "The 2015 figures of the news story are compared with both reporters' IMF DOTS turnover, computed here independently."
    t = pd.read_csv(ROOT / "data" / "trade.csv")
    dots = t[t.source_id == "imf_dots_2022"]
    def turnover(rep, par, y): return dots[(dots.reporter == rep) & (dots.partner == par) & (dots.year == y)].value.sum()
    rus = turnover("RUS", "JPN", 2015)
    change = (rus / turnover("RUS", "JPN", 2014) - 1) * 100
    shown = text(runs["good claims_check"][1])
    assert f"Russia-reported turnover with Japan was USD {rus / 1000:.2f} bn in 2015, {change:+.1f} % on 2014" in shown
    assert "the figures fit the Russia-reported statistics" in shown


def test_claims_check_grades_the_islands_population_on_interpolated_figures(runs):
    "C004 (19,000 Russians, 2016): each district's figure at 2016 is interpolated between the years that bracket it, computed here from the committed table."
    pop = pd.read_csv(ROOT / "data" / "population.csv")
    yk = pop[pop.area.str.startswith("Yuzhno-Kurilsky District")].sort_values("year")
    before, after = yk[yk.year < 2016].iloc[-1], yk[yk.year > 2016].iloc[0]
    at2016 = before.population + (after.population - before.population) * (2016 - before.year) / (after.year - before.year)
    shown = re.sub(r"\s+", " ", text(runs["good claims_check"][1]))
    assert f"Yuzhno-Kurilsky {at2016:,.0f} interpolated between {before.year} {before.measure} {before.population:,} and {after.year}" in shown
    (row,) = [r for r in re.findall(r"<tr>(.*?)</tr>", shown) if "<td>C004</td>" in r and "About 19" in r]
    assert "<td>within range</td> <td>16,834 persons — population:" in row
    # every claim's verdict stands beside the figure it was checked against and that figure's source
    checked = re.findall(r"<td>(within range|consistent|inconsistent|not supported|not checkable)</td> <td>([^<]*)</td>", shown)
    assert len(checked) >= 5
    for verdict, against in checked:
        assert against == "nothing in the bundled data" if verdict == "not checkable" else " — " in against and ":" in against, (verdict, against)


def test_claims_check_grades_the_sanctions_claim_on_every_named_sender(runs):
    "C011 ('Japan joined the US and the EU in imposing sanctions on Russia over Ukraine') is checked against each named sender's case in the full GSDB v3 and its first measure in sanctions_senders; the case ids and dates here are read from the committed tables."
    g = pd.read_csv(ROOT / "data" / "gsdb_cases.csv")
    ru = g[(g.sanctioned_state == "Russia") & g.begin.between(2014, 2016)]
    case = lambda name: ", ".join(str(c) for c in ru[ru.sanctioning_state.str.split(", ").apply(lambda n: name in n)].case_id)
    s = pd.read_csv(ROOT / "data" / "sanctions_senders.csv")
    s = s[(s.episode == 2014) & s.date.str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
    first = {"Japan": s[(s.iso3 == "JPN") & (s.basis == "own_measure")].date.min(), "the United States": s[(s.iso3 == "USA") & (s.basis == "own_measure")].date.min(),
             "the EU": s[s.basis == "eu_member_state"].date.min()}
    shown = re.sub(r"\s+", " ", text(runs["good claims_check"][1])).replace("&#x27;", "'")
    (row,) = [r for r in re.findall(r"<tr>(.*?)</tr>", shown) if "<td>C011</td>" in r and "joined the United States" in r]
    assert "<td>consistent</td>" in row, row
    assert f"Japan ({case('Japan')}), the United States ({case('United States')}), the EU ({case('EU')})" in row
    assert "First measures: " + "; ".join(f"{k} {v}" for k, v in first.items()) in row
    assert first["Japan"] >= max(first["the United States"], first["the EU"])  # what 'joined' needs, in the data


def test_every_catalogue_report_that_checks_a_gravity_claim_runs_after_sanctions_gravity(settings):
    "A claims report whose document has a claim graded from the gravity fits (C003's metric) names `after = sanctions_gravity`: started beside it, it would hold a core idle while the fits it needs are computed under their lock."
    claims = pd.read_csv(ROOT / "data" / "claims.csv")
    gravity_docs = set(claims[claims.metric == "trade_fall_attribution"].document)
    assert gravity_docs, "no claim graded from the gravity fits: the test has nothing to check"
    checked = 0
    for r in settings.reports.values():
        if Path(r.notebook).name != "claims_check.ipynb": continue
        doc = r.parameters.get("document", "all")
        if doc == "all" or doc in gravity_docs:
            assert "sanctions_gravity" in r.after, f"[report {r.name}] checks document {doc!r}, which has a gravity-graded claim: add `after = sanctions_gravity`"
            checked += 1
    assert checked >= 2  # claims_check (all documents) and claims_check_news24


def test_claims_check_grades_the_causal_claim_from_the_gravity_estimate(runs):
    "C003 ('fell 31 %, in part due to sanctions') is graded from the gravity model, not left 'not checkable': the fall it explains is Japan–Russia importer-reported trade 2013→2015, computed here from world_trade."
    w = pd.read_csv(ROOT / "data" / "world_trade.csv.gz")
    imp = w[(w.flow == "imports") & (((w.reporter == "RUS") & (w.partner == "JPN")) | ((w.reporter == "JPN") & (w.partner == "RUS")))]
    y13, y15 = (imp[imp.year == y].value_usd_m.sum() for y in (2013, 2015))
    shown = re.sub(r"\s+", " ", text(runs["good claims_check"][1])).replace("&#x27;", "'")
    (row,) = [r for r in re.findall(r"<tr>(.*?)</tr>", shown) if "<td>C003</td>" in r and "in part due to Japan's sanctions" in r]
    assert "<td>not checkable</td>" not in row and "<td>not supported</td>" in row, row
    assert f"of the 2013→2015 fall in Japan–Russia trade ({y13:,.0f} → {y15:,.0f} USD m, {100 * (y15 / y13 - 1):+.1f} %" in shown
    why = re.search(r"\*\*The cause \(C003\): not supported\.\*\* (Not supported by a design-valid test .*?)\. The model's", shown).group(1)
    ps = [float(x) for x in re.findall(r"randomization p ([0-9.]+) \(Japan among \d+ partners, exact\)", why)]
    assert len(ps) == 2 and all(p >= 0.05 for p in ps) or "pre-years not flat" in why  # 'not supported' only when no term passes its tests
    assert "The stated fall of -31 % matches the Russia-reported turnover" in shown


@pytest.mark.parametrize("case", list(BAD))
def test_bad_parameter_stops_in_the_check_cell(case):
    "Papermill's CLI would type these arguments so (-y YAML, -p its type resolution, -r a string); the check cell rejects them."
    report, args, message = BAD[case]
    assert_check_cell_rejects(report, cli_values(args), message)


def test_a_bad_parameter_stops_the_papermill_cli_in_the_check_cell(runs):
    "The same through the papermill CLI: it exits non-zero, prints the message, and the check cell is the one that failed."
    report, _, message = BAD[CLI_BAD]
    assert_stopped_in_check_cell(*runs[f"bad {CLI_BAD}"], message=message)


def test_a_broken_table_stops_the_report_with_its_validation_error(runs):
    "dispute_timeline on a package whose events table breaks its schema stops in its check cell, naming file, row and field."
    p, nb = runs["broken events table"]
    assert p.returncode != 0
    (cell, err), = errors(nb)
    assert err["ename"] == "ValidationError"
    assert re.search(r"events\.csv row \d+ field category: 'skirmish' breaks constraint enum", err["evalue"]), err["evalue"]
    assert "check_parameters(" in src(cell)


def test_a_changed_geometry_file_stops_the_report(runs):
    "islands_profile on a package whose islands GeoJSON was changed after the build stops in its check cell."
    p, nb = runs["broken islands geometry"]
    assert p.returncode != 0
    (cell, err), = errors(nb)
    assert err["ename"] == "ValidationError" and "data/islands_geometry.geojson: sha256 differs from datapackage.json" in err["evalue"]
    assert "check_parameters(" in src(cell)


def _plain(nb):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(nb)))


@pytest.mark.parametrize("run", ["good dispute_timeline", "good relations_index", "good islands_profile", "good claims_check", "default relations_index", "default relations_index_1957"])
def test_opens_with_the_finding_key_numbers_and_figure(runs, run):
    "Finding 9: question, finding, key numbers, the main figure; parameters and sources in the appendix at the end."
    assert_first_screen(runs[run][1])


def test_relations_index_finding_is_the_distance_with_its_band_and_a_permutation_p(runs):
    "The 2020 Japan–Russia distance and its 90 % band, recomputed from the ideal points (final-passage estimate)."
    f = assert_first_screen(runs["good relations_index"][1])
    ip = pd.read_csv(ROOT / "data" / "unga_ideal_points.csv")
    ip = ip[(ip.estimate == "final_passage") & (ip.year == 2020)].set_index("country")
    j, r = ip.loc["JPN"], ip.loc["RUS"]
    lo, hi = max(j.q05 - r.q95, r.q05 - j.q95, 0), max(j.q95 - r.q05, r.q95 - j.q05)
    assert f["number"] == f"{abs(j.ideal_point - r.ideal_point):.2f}" and f["interval"] == f"90 % band {lo:.2f}–{hi:.2f}"
    assert "Japan–USA" in f["answer"] and "Japan–China" in f["answer"] and "permutation p = " in f["answer"]


def test_relations_index_starts_in_1992_by_default(runs):
    "Finding 7: the default window starts after the USSR → Russia splice, so no figure crosses it."
    p, nb = runs["default relations_index"]
    assert_ran_clean(p, nb, 3)
    shown = _plain(nb)
    assert "Summits and declarations recorded, 1992–2024" in shown
    assert "window crosses the USSR → Russia splice" not in shown


def test_relations_index_long_view_marks_the_splice_and_the_uncovered_years(runs):
    p, nb = runs["default relations_index_1957"]
    assert_ran_clean(p, nb, 3)
    shown = _plain(nb)
    assert "The window crosses the USSR → Russia splice" in shown and "the splice year is marked in every figure" in shown
    ev = pd.read_csv(ROOT / "data" / "events.csv")
    years = set(pd.to_datetime(ev.date.dropna()).dt.year)
    assert not years & set(range(1957, 1991))  # the compilation's gap, which the report must state
    assert "it dates nothing at all in 1957–1990" in shown


def test_relations_index_shows_icews_and_opinion_from_the_tables(runs):
    "The ICEWS and Cabinet Office numbers of the report equal those computed here from the committed tables."
    shown = _plain(runs["default relations_index"][1])
    ic = pd.read_csv(ROOT / "data" / "icews_dyad_years.csv")
    jr = ic[(ic.source_country == "JPN") & (ic.target_country == "RUS")].set_index("year")
    coop = jr.verbal_coop + jr.material_coop
    assert f"{int(coop[2002]):,} → {int(coop[2014]):,} cooperative" in shown
    op = pd.read_csv(ROOT / "data" / "opinion_japan.csv")
    last = op[op.measure == "affinity"].dropna(subset=["year"]).sort_values("year").iloc[-1]
    assert f"Japanese feeling affinity towards Russia, {int(last.year)} {last.value_pct:.1f} %" in shown
    assert "survey by mail from 2020, not directly comparable" in shown and "method change" in shown


def test_relations_index_shows_russian_opinion_on_a_transfer_from_the_table(runs):
    "The Levada shares against handing the islands to Japan, and the Kuril residents' poll, equal those of opinion_russia.csv, each with its answer as worded."
    shown = _plain(runs["default relations_index"][1]).replace("&#x27;", "'")
    op = pd.read_csv(ROOT / "data" / "opinion_russia.csv")
    lev = op[(op.pollster == "Levada Center") & op.question_topic.str.contains("transfer") & ~op.question_topic.str.contains("peace treaty")
             & op.answer.isin(["against", "oppose", "rather not"]) & (op.year >= 1992)].sort_values("year")
    assert len(lev) >= 3
    last = lev.iloc[-1]
    assert f"Russians against handing the islands to Japan, {last.year} (Levada) {last.value_pct:.0f} % answer '{last.answer}'" in shown
    assert ", ".join(f"{r.year} {r.value_pct:.0f} %" for r in lev.itertuples()) in shown
    res = op[op.residents_only & (op.answer == "oppose")].iloc[0]
    assert f"Kuril residents against a transfer, {res.year} ({res.pollster}) {res.value_pct:.0f} %" in shown


def test_relations_index_shows_shared_organisations_and_pacts_from_the_tables(runs):
    "The shared-IGO counts at the window's ends and the ATOP spells equal those of shared_igos.csv and alliances.csv."
    shown = _plain(runs["default relations_index"][1])
    ig = pd.read_csv(ROOT / "data" / "shared_igos.csv").set_index("year").shared_igos
    ig = ig[ig.index >= 1992]
    assert f"Shared IGO memberships, {ig.index.max()} {ig.iloc[-1]} {ig.index.min()}: {ig.iloc[0]}" in shown
    al = pd.read_csv(ROOT / "data" / "alliances.csv")
    na = al[al.nonagg & (al.year >= 1992)].year
    assert f"ATOP non-aggression pact {na.min()}–{na.max()}" in shown and len(na) == na.max() - na.min() + 1


def test_relations_index_shows_rivalry_threat_and_distance_from_the_tables(runs):
    "The rivalry spells, the latest territorial-threat score in the window with its interval, and the distance are those of rivalries.csv, territorial_threat.csv and min_distance.csv."
    shown = _plain(runs["default relations_index"][1])
    for r in pd.read_csv(ROOT / "data" / "rivalries.csv").itertuples():
        assert f"{r.first_year}–{r.last_year} {r.types}; none coded in 1992–2024" in shown
    th = pd.read_csv(ROOT / "data" / "territorial_threat.csv")
    jp = th[(th.ccode == 740) & (th.year >= 1992)].sort_values("year").iloc[-1]
    assert f"Territorial threat to Japan, {jp.year} {jp.threat:.2f} 90 % interval {jp.lower:.2f} to {jp.upper:.2f}" in shown
    d = pd.read_csv(ROOT / "data" / "min_distance.csv")
    d = d[d.year >= 1992]
    assert d.min_distance_km.nunique() == 1 and f"{d.min_distance_km.iloc[0]:.2f} km {d.year.min()}–{d.year.max()} (CShapes 2.0)" in shown

def test_relations_index_sets_the_two_dispute_codings_side_by_side(runs):
    "The disputes starting in the window as MID 5.0 and GML 2.2.1 code them: counts of those both code and of those one lacks, recomputed from mids.csv, and GML's onset count beside MID's."
    shown = _plain(runs["default relations_index"][1])
    m = pd.read_csv(ROOT / "data" / "mids.csv")
    m = m[m.styear.between(1992, 2024)]
    both = m.groupby("dispnum").source_id.nunique() == 2
    assert f"of the {int(both.sum())} that both code" in shown and f"and {int((~both).sum())} " in shown
    gml = m[m.source_id == "gml_mid221"]
    assert f"GML 2.2.1 (to {gml.styear.max()}): {len(gml)} in 1992–{gml.styear.max()}" in shown


def test_islands_profile_shows_fisheries_and_exchanges_with_gaps(runs):
    shown = _plain(runs["good islands_profile"][1])
    fa = pd.read_csv(ROOT / "data" / "fisheries_agreements.csv")
    seasons = ", ".join(str(y) for y in sorted(set(fa[fa.agreement == "four_islands_1998"].season_year)))
    assert f"Seasons with reported terms, 1998 agreement {seasons}" in shown and "gaps, not zeros" in shown
    ex = pd.read_csv(ROOT / "data" / "islands_exchanges.csv")
    fy97 = ex[ex.period.str.startswith("FY1997")].value.astype(int).tolist()
    assert f"{fy97[0]:,} Japanese / {fy97[1]:,} island residents" in shown
    for sid in set(fa.source_id) | set(ex.source_id): assert sid in shown, sid


def test_dispute_timeline_shows_the_cow_territorial_changes_and_wars(runs):
    "The COW rows in the window, in words, with area and population as coded (territorial_changes.csv) and each war's years and battle deaths (wars.csv)."
    shown = _plain(runs["default dispute_timeline"][1])
    tc = pd.read_csv(ROOT / "data" / "territorial_changes.csv")
    r45 = tc[tc.year == 1945].iloc[0]
    assert f"1945 9 Russia/USSR Japan cession {r45.area:,.0f} {r45['pop']:,.0f} True" in shown
    assert "No transfer took place in 1956" in shown  # the row's caveat travels with it
    w = pd.read_csv(ROOT / "data" / "wars.csv")
    rj = w[w.warnum == 85].drop_duplicates("ccode").set_index("ccode").batdeath
    assert f"85 Russo-Japanese War 1904 1905 Japan Japan {rj[740]:,} {rj[365]:,}" in shown
    shown = _plain(runs["good dispute_timeline"][1])  # 1991–2022: nothing of either in the window, and the report says when they were
    assert f"COW records no territorial change between the two and no war in 1991–2022 (changes: {', '.join(map(str, tc.year))}" in shown


def test_dispute_timeline_shows_the_icow_salience(runs):
    shown = _plain(runs["good dispute_timeline"][1])
    icow = pd.read_csv(ROOT / "data" / "icow_claim_years.csv")
    k = icow[icow.claimdy == 82804]
    assert f"ICOW salience of Japan's post-war claim (claim-dyad 82804) {k.icowsal.min()} of 12" in shown
    assert "the claim's identity is inferred" in shown


def test_relations_index_names_the_mirror_flagged_cells_and_tests_without_them(runs):
    "Issue 9, finding 4: the trade series contain the flagged Japan → Russia cells; the report names them and shows the test without those years."
    shown = _plain(runs["default relations_index"][1])
    f = pd.read_csv(ROOT / "data" / "mirror_flags.csv")
    years = sorted(f[f.flagged & f.exporter.isin(["JPN", "RUS"]) & f.importer.isin(["JPN", "RUS"]) & f.year.between(1992, 2024)].year)
    assert 2011 in years
    assert "Mirror outliers." in shown and "JPN→RUS 2011 (JPN reports 11,826.3, RUS 6,710.5 USD m" in shown
    assert f"without the mirror-flagged years ({', '.join(map(str, years))}) r = " in shown
