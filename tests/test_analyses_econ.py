"""The economic analyses run with non-default parameters finish without an error, hold their figures and show numbers
that are recomputed here independently from the committed tables; bad parameters and a broken data table stop them in
the parameter-check cell with a one-line message naming the parameter (or table) and what is allowed.

One good report and one bad parameter go through the real papermill CLI; the other good and broken-data runs go
through warm kernels of the report runner (parameters injected by papermill's `parameterize_notebook`), and every bad
parameter is also checked in this process up to the check cell, the only cell it reaches."""
import re
import numpy as np  # used by name inside the patsy formula below
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from kuril_research import donors as dn

from notebook_runs import (assert_check_cell_rejects, assert_first_screen, assert_published_beside, assert_ran_clean, assert_stopped_in_check_cell, ROOT, break_cell,
                           cli_values, errors, first_finding, in_kernel, outputs, papermill, pngs, run_all, run_to_check_cell, src, text)


GOOD = {  # name: (report, papermill arguments, at least this many figures)
    "overview in yen": ("trade_overview", ["-p", "start_year", "2005", "-p", "end_year", "2024", "-p", "currency", "JPY"], 5),
    "overview, IMTS in roubles": ("trade_overview", ["-p", "source", "imf_imts_rus", "-p", "currency", "RUB", "-p", "start_year", "2016"], 3),
    "sanctions 2022 exports": ("sanctions_effect", ["-p", "treatment_year", "2022", "-p", "flow", "exports", "-p", "window", "5",
                                                    "-y", "placebo_years: [2018, 2019]"], 3),
    "window around the December 2016 summit": ("event_window", ["-p", "event_id", "E021", "-p", "window_years", "4"], 1),
    "window around the 2022 break-off of talks": ("event_window", ["-p", "event_id", "E029"], 1),
    "energy 2015–2025": ("energy_and_composition", ["-p", "start_year", "2015", "-p", "end_year", "2025"], 6),
}

CLI_GOOD = "sanctions 2022 exports"  # the good run that goes through the papermill CLI (its -p and -y arguments too)

BAD = {  # case: (report, papermill arguments, text the error must contain)
    "unknown name": ("trade_overview", ["-p", "start_yaer", "1990"],
                     "unknown parameter start_yaer=1990; this notebook's parameters: start_year, end_year, source, currency, event_categories"),
    "wrong type": ("trade_overview", ["-r", "start_year", "abc"], "parameter start_year='abc': expected int, got str"),
    "years outside the data": ("trade_overview", ["-p", "start_year", "1900"], "parameter start_year=1900: outside the years covered by trade (1952–2025)"),
    "end before start": ("energy_and_composition", ["-p", "start_year", "2020", "-p", "end_year", "2010"], "parameter end_year=2010 is before start_year=2020"),
    "empty selection (source and years)": ("trade_overview", ["-p", "source", "jp_mof_trade_by_country", "-p", "start_year", "1995", "-p", "end_year", "2000"],
                                           "parameter source='jp_mof_trade_by_country': no Japan–Russia rows in 1995–2000; sources with rows in those years: cow_trade_v4_dyadic, imf_dots_2022"),
    "unknown partner": ("sanctions_effect", ["-y", "controls: [CHN, FRA]"], "parameter controls=['CHN', 'FRA']: 'FRA' is not allowed; allowed: CHN, KOR, IND, DEU, USA, TUR"),
    "unknown event": ("event_window", ["-p", "event_id", "E999"], "parameter event_id='E999': no dated event with this id; events: E001, E002"),
}

CLI_BAD = "unknown name"  # the bad parameter that also goes through the papermill CLI and a real kernel's `In`


IN_PROCESS = {  # more bad parameters, checked by running the notebook's own cells up to its check cell in this process
    "no partner": ("sanctions_effect", {"controls": []}, "parameter controls=[]: selects nothing"),
    "placebo not before the treatment": ("sanctions_effect", {"placebo_years": [2010, 2015]},
                                         "parameter placebo_years=2015: outside the years before treatment_year=2014 (1994–2013)"),
    "treatment the reporter cannot cover": ("sanctions_effect", {"reported_by": "partner", "treatment_year": 2022, "placebo_years": [2018]},
                                            "parameter treatment_year=2022: outside the years a partner-reported panel can treat, with two years before (1994–2020)"),
    "unknown reported_by": ("sanctions_effect", {"reported_by": "Japan"}, "parameter reported_by='Japan': 'Japan' is not allowed; allowed: Russia, partner"),
    "unknown flow": ("sanctions_effect", {"flow": "balance"}, "parameter flow='balance': 'balance' is not allowed; allowed: exports, imports, turnover"),
    "event outside the data": ("event_window", {"event_id": "E001"},
                               "parameter event_id='E001': the event (1855-02-07) needs three years of data before 1855 and one from it, and Japan–Russia trade data covers 1952–2025"),
    "undated event": ("event_window", {"event_id": "M005"}, "parameter event_id='M005': no dated event with this id"),
    "empty selection (years)": ("energy_and_composition", {"start_year": 2011, "end_year": 2011},
                                "parameters start_year=2011, end_year=2011: no reported figure in these years; years with figures: 2006, 2007, 2008, 2010, 2012"),
    "unknown source": ("trade_overview", {"source": "nosuch"},
                       "parameter source='nosuch': 'nosuch' is not allowed; allowed: all, cow_trade_v4_dyadic, imf_dots_2022, imf_imts_rus, jp_mof_trade_by_country"),
    "unknown currency": ("trade_overview", {"currency": "EUR"}, "parameter currency='EUR': 'EUR' is not allowed; allowed: USD, JPY, RUB"),
    "unknown event category": ("trade_overview", {"event_categories": ["skirmish"]}, "parameter event_categories=['skirmish']: 'skirmish' is not allowed"),
}


BROKEN = {  # report: (table, column, bad value)
    "trade_overview": ("trade", "value", "abc"),
    "energy_and_composition": ("lng_imports_monthly", "month", "2025-13"),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, settings):
    """Every good and broken-data run and the CLI's bad one: {case: (CompletedProcess or KernelRun, executed notebook)}.
    The two papermill CLI runs first, the others on warm kernels, two threads in all."""
    import shutil
    from functools import partial
    d = tmp_path_factory.mktemp("papermill")
    out = lambda k: d / (re.sub(r"\W+", "_", k) + ".ipynb")
    r, args, _ = GOOD[CLI_GOOD]
    jobs = {f"good {CLI_GOOD}": partial(papermill, r, out(f"good {CLI_GOOD}"), *args)}
    r, args, _ = BAD[CLI_BAD]
    jobs[f"bad {CLI_BAD}"] = partial(papermill, r, out(f"bad {CLI_BAD}"), *args)
    jobs |= {f"good {k}": partial(in_kernel, r, out(f"good {k}"), cli_values(args)) for k, (r, args, _) in GOOD.items() if k != CLI_GOOD}
    for report, (table, column, bad) in BROKEN.items():
        data = d / f"data_{table}"
        shutil.copytree(settings.data_dir, data)
        break_cell(data, table, column, bad)
        jobs[f"broken {report}"] = partial(in_kernel, report, out(f"broken {report}"), env={"KURIL_DATA_DIR": str(data)})
    return run_all(jobs, 2)


@pytest.fixture(scope="module")
def trade():
    return pd.read_csv(ROOT / "data" / "trade.csv")


@pytest.fixture(scope="module")
def fx():
    return pd.read_csv(ROOT / "data" / "fx.csv")


@pytest.mark.parametrize("name", list(GOOD))
def test_runs_with_other_parameters(runs, name):
    assert_ran_clean(*runs[f"good {name}"], GOOD[name][2])


@pytest.mark.parametrize("name", [n for n, (r, _, _) in GOOD.items() if r in ("trade_overview", "energy_and_composition", "sanctions_effect")])
def test_opens_with_the_finding_key_numbers_and_figure(runs, name):
    "Finding 9: question, finding, key numbers, the main figure; parameters and sources in the appendix at the end."
    assert_first_screen(runs[f"good {name}"][1])


def test_overview_finding_is_the_latest_turnover_and_its_change_on_2021(runs, trade):
    "In yen, 2005–2024: Japan's MOF turnover 2024 and its change on 2021, and the IMTS 2024 figure beside it, straight from trade.csv."
    f = assert_first_screen(runs["good overview in yen"][1])
    mof = trade[(trade.source_id == "jp_mof_trade_by_country") & (trade.reporter == "JPN") & (trade.partner == "RUS")].groupby("year").value.sum() / 1e6
    assert f["number"] == f"{mof[2024]:,.1f} JPY bn"
    assert f"{100 * (mof[2024] / mof[2021] - 1):+.0f} % on 2021" in f["answer"]
    assert "Japan's own figures (Japan MOF)" in f["answer"] and "Russia's own figures (IMF IMTS)" in f["answer"]


def test_overview_sets_the_pairs_turnover_against_each_sides_gdp(runs, trade):
    "Russia-reported IMTS turnover with Japan over Russia's World Bank GDP in the latest year both cover (GDP ends first), from trade.csv and gdp.csv."
    gdp = pd.read_csv(ROOT / "data" / "gdp.csv").query("country == 'RUS'").set_index("year").value
    imts = trade[(trade.source_id == "imf_imts_rus") & (trade.reporter == "RUS") & (trade.partner == "JPN")].groupby("year").value.sum()
    y = max(set(gdp.index) & set(imts.index) & set(range(2005, 2025)))
    shown = re.sub(r"\s+", " ", text(runs["good overview in yen"][1])).replace("&#x27;", "'")
    assert f"The pair's turnover in Russia's GDP (IMF IMTS; World Bank GDP), {y}</td> <td>{100 * imts[y] * 1e6 / gdp[y]:.2f} %</td>" in shown


def test_overview_converts_at_the_annual_average_rate(runs, trade, fx):
    "Yen values: MOF 2021 turnover as published (thousand yen), and Russia-reported 2016 USD × the 2016 annual JPY rate."
    shown = text(runs["good overview in yen"][1])
    mof = trade[(trade.source_id == "jp_mof_trade_by_country") & (trade.reporter == "JPN") & (trade.partner == "RUS") & (trade.year == 2021)]
    assert f"{mof.value.sum() / 1e6:.2f}" in shown  # ¥ thousand → ¥ bn, no conversion needed
    imts = trade[(trade.source_id == "imf_imts_rus") & (trade.reporter == "RUS") & (trade.partner == "JPN") & (trade.year == 2016)].value.sum()
    jpy = fx[(fx.source_id == "fed_h10_fx") & (fx.currency == "JPY") & (fx.frequency == "annual") & (fx.year == 2016)].rate.item()
    assert f"{imts * jpy / 1000:.2f}" in shown


def test_overview_in_roubles_leaves_the_years_without_a_rate_empty(runs, trade, fx):
    "The Bank of Russia rates end in 2023: the 2024 IMTS turnover has no RUB value; 2023 has one."
    nb = runs["good overview, IMTS in roubles"][1]
    html = next("".join(o["data"]["text/html"]) for _, o in outputs(nb) if "Turnover, RUB bn" in "".join(o.get("data", {}).get("text/html", "")))
    rows = {int(r[0]): r[1:] for r in (re.findall(r"<td>(.*?)</td>", tr, re.S) for tr in re.findall(r"<tr>(.*?)</tr>", html, re.S)) if r}
    df = pd.DataFrame(rows).T
    assert df.loc[2024].iloc[0] == "—"
    imts = trade[(trade.source_id == "imf_imts_rus") & (trade.reporter == "RUS") & (trade.partner == "JPN") & (trade.year == 2023)].value.sum()
    rub = fx[(fx.source_id == "cbr_usd_rub") & (fx.currency == "RUB") & (fx.frequency == "annual") & (fx.statistic == "mean_of_settings") & (fx.year == 2023)].rate.item()
    assert float(df.loc[2023].iloc[0]) == pytest.approx(imts * rub / 1000, abs=0.006)


def test_sanctions_estimate_matches_an_independent_fit(runs, trade):
    "The DiD the report shows equals a fit done here with statsmodels' formula API on a panel built straight from trade.csv."
    rus = trade[(trade.reporter == "RUS") & (trade.flow == "exports") & trade.partner.isin(["JPN", "CHN", "KOR", "IND", "DEU", "USA", "TUR"])]
    panel = pd.concat([rus[(rus.source_id == "imf_dots_2022") & (rus.year < 2016)], rus[rus.source_id == "imf_imts_rus"]])
    panel = panel[panel.year.between(2017, 2027)].assign(treated_post=lambda d: ((d.partner == "JPN") & (d.year >= 2022)).astype(float))
    fit = smf.ols("np.log(value) ~ C(partner) + C(year) + treated_post", panel).fit(cov_type="HC1", use_t=True)
    lo, hi = fit.conf_int().loc["treated_post"]
    shown = text(runs["good sanctions 2022 exports"][1])
    assert f"{fit.params['treated_post']:.3f} log points, 95 % interval {lo:.3f} to {hi:.3f}" in shown
    assert "are not Russian customs figures" in shown and "IMF estimates" in shown  # what the data cannot support


def test_the_partner_reported_panel_is_one_source_without_a_join():
    "Each partner's own reports (the sanctions report's check): DOTS only, to 2020, the mirror flow of Russia's."
    from kuril_research import trade as tr
    from kuril_research.data import load
    t = load("trade")
    p = tr.panel_reported_by(t, "partner", ["JPN", "CHN"], "imports")  # Russia's imports = the partners' exports to Russia
    assert set(p.source_id) == {"imf_dots_2022"} and p.year.max() == 2020
    jp = t[(t.reporter == "JPN") & (t.partner == "RUS") & (t.flow == "exports") & (t.source_id == "imf_dots_2022")]
    assert p[p.partner == "JPN"].set_index("year").value.to_dict() == jp.set_index(jp.year.astype(int)).value.to_dict()


def test_event_window_without_untreated_partners_says_so_where_the_figure_would_be(runs):
    "E029 (March 2022): every control partner is a 2022 sender or hub, so there is no comparison, and the section says why it has no figure."
    nb = runs["good window around the 2022 break-off of talks"][1]
    f = first_finding(nb)
    assert f["answer"] == "Not testable: every control partner was itself treated inside the window."
    i = next(k for k, c in enumerate(nb["cells"]) if src(c).startswith("## Japan against its untreated partners"))
    assert pngs({"cells": [nb["cells"][i + 1]]}) == 0 and text({"cells": [nb["cells"][i + 1]]}).startswith("No figure: every control partner was itself treated")
    # Japan's own 2022 sanctions fall in the window too (sanctions_senders lists JPN for 2022): the page says the two cannot be told apart
    s = pd.read_csv(ROOT / "data" / "sanctions_senders.csv")
    assert "JPN" in set(s[s.episode == 2022].iso3)
    assert "Japan itself joined the 2022 sanctions on Russia" in text(nb).replace("&#x27;", "'") and "sanctions_effect report for 2022" in text(nb)


def test_event_window_compares_with_untreated_partners_and_ranks_the_event(runs):
    nb = runs["good window around the December 2016 summit"][1]
    shown = text(nb)
    assert "2013–2016 before, 2017–2020 after" in shown  # a December event counts from the next year
    assert "above the linear trend" not in shown and "pre-event trend" not in shown  # no own-trend extrapolation
    assert "CHN, KOR, IND, TUR" in shown  # the suite's controls without the 2014 senders (USA, Germany)
    rank, n = map(int, re.search(r"Rank among the same window at other years</td>\s*<td>(\d+) of (\d+)<", shown).groups())
    assert 1 <= rank <= n and n >= 5
    # the verdict line is computed from the rank, and says what the rank says
    (f,) = [o["metadata"]["kuril_finding"] for _, o in outputs(nb) if "kuril_finding" in o.get("metadata", {}) and "text/markdown" in o.get("data", {})]
    assert f"rank {rank} of {n}" in f["answer"]
    assert ("Not distinguishable" in f["answer"]) == (rank / n >= 0.05)
    # UNGA distances in levels, against other pairs
    assert "JPN–RUS change minus this pair&#x27;s" in shown or "JPN–RUS change minus this pair's" in shown
    assert not re.search(r"UNGA[^<]*%", shown)


def test_energy_shows_the_customs_lng_share_computed_from_the_rows(runs):
    "Russia's 2025 share of Japan's LNG imports by volume, recomputed from lng_imports_monthly.csv."
    lng = pd.read_csv(ROOT / "data" / "lng_imports_monthly.csv", dtype={"partner_code_jp": str})
    y = lng[lng.month.str.startswith("2025")]
    share = 100 * y[y.partner_code_jp == "224"].quantity.sum() / y[y.partner_code_jp == "ALL"].quantity.sum()
    shown = text(runs["good energy 2015–2025"][1])
    assert f"{share:.1f} % of Japan's LNG imports by volume" in shown
    assert "reported figures, not official series" in "".join(src(c) for c in runs["good energy 2015–2025"][1]["cells"])


def test_energy_shows_where_russias_crude_went_computed_from_the_rows(runs):
    "Japan's crude from Russia, 2021 and 2022, and the share of Russia's tracked crude going to the 2022 senders, recomputed from russia_crude_exports.csv and sanctions_senders.csv (treated bases as the donor pools count them)."
    c = pd.read_csv(ROOT / "data" / "russia_crude_exports.csv").pivot_table(index="destination_name", columns="year", values="quantity", aggfunc="sum")
    jp = c.loc["Japan"]
    s = pd.read_csv(ROOT / "data" / "sanctions_senders.csv")
    snd = set(dn.senders(2022, s).iso3)
    assert "JPN" in snd and "IND" not in snd and "CHN" not in snd
    codes = pd.read_csv(ROOT / "data" / "russia_crude_exports.csv").drop_duplicates("destination_name").set_index("destination_name").destination
    share = {y: 100 * c.loc[codes.isin(snd)[codes.isin(snd)].index, y].sum() / c[y].sum() for y in (2021, 2022)}
    shown = re.sub(r"\s+", " ", text(runs["good energy 2015–2025"][1]))
    assert f"<td>{jp[2022]:,.0f} kt</td> <td>{100 * (jp[2022] / jp[2021] - 1):.1f} % on 2021 ({jp[2021]:,.0f} kt)" in shown
    assert f"the share going to the economies that sanctioned it fell from {share[2021]:.1f} % to {share[2022]:.1f} %" in shown
    assert share[2022] < share[2021]
    # beside the published share (EU and US, seaborne, about 65 %): the EU members of 2022 and the US in this table, 2021
    eu_us = set(s[(s.episode == 2022) & (s.basis == "eu_member_state")].iso3.dropna()) | {"USA"}
    mine = 100 * c.loc[codes.isin(eu_us)[codes.isin(eu_us)].index, 2021].sum() / c[2021].sum()
    assert f"In this table the EU members and the United States took {mine:.1f} % of Russia's tracked crude in 2021" in shown.replace("&#x27;", "'")


def test_energy_shows_the_eus_monthly_fuel_imports_summed_from_the_rows(runs):
    "The EU members' HS 27 imports from Russia: the peak month and the last month with figures, summed here from eu_trade_russia_monthly.csv (missing cells left out, a month with none reported left out)."
    e = pd.read_csv(ROOT / "data" / "eu_trade_russia_monthly.csv", dtype={"product_code": str})
    m = e[(e.flow == "imports") & (e.product_code == "27")].groupby("month").value.sum(min_count=1).dropna() / 1e9
    shown = text(runs["good energy 2015–2025"][1]).replace("&#x27;", "'")
    assert f"peaked at EUR {m.max():.1f} bn in {m.idxmax()}; in {m.index.max()}, the last month with figures, they were EUR {m.iloc[-1]:.1f} bn" in shown
    assert "Eurostat shows no value for any member in 2022-12" in shown


@pytest.mark.parametrize("case", list(BAD))
def test_bad_parameter_stops_in_the_check_cell(case):
    "Papermill's CLI would type these arguments so (-y YAML, -p its type resolution, -r a string); the check cell rejects them."
    report, args, message = BAD[case]
    assert_check_cell_rejects(report, cli_values(args), message)


def test_a_bad_parameter_stops_the_papermill_cli_in_the_check_cell(runs):
    "The same through the papermill CLI: it exits non-zero, prints the message, and the check cell is the one that failed."
    report, _, message = BAD[CLI_BAD]
    assert_stopped_in_check_cell(*runs[f"bad {CLI_BAD}"], message=message)


@pytest.mark.parametrize("case", list(IN_PROCESS))
def test_bad_parameter_fails_the_check_cell(case):
    report, values, message = IN_PROCESS[case]
    assert_check_cell_rejects(report, values, message)


def test_the_check_cells_pass_with_the_defaults():
    for report in ("trade_overview", "sanctions_effect", "event_window", "energy_and_composition"):
        assert run_to_check_cell(report, {}) is None


@pytest.mark.parametrize("report", list(BROKEN))
def test_a_broken_table_stops_the_report_with_its_validation_error(runs, report):
    table, column, bad = BROKEN[report]
    p, nb = runs[f"broken {report}"]
    assert p.returncode != 0
    (cell, err), = errors(nb)
    assert err["ename"] == "ValidationError"
    assert re.search(rf"{table}\.csv row \d+ field {column}: '{re.escape(bad)}'", err["evalue"]), err["evalue"]
    assert "check_parameters(" in src(cell)


def test_overview_names_the_mirror_flagged_cells_it_shows(runs):
    "Issue 9, finding 4: the 2005–2024 overview shows Japan → Russia 2009 and 2011, which the mirror screen flags; 1995 is outside it."
    shown = text(runs["good overview in yen"][1])
    assert "Mirror outliers." in shown
    assert "JPN→RUS 2009 (JPN reports 3,291.8, RUS 7,258.5 USD m" in shown and "JPN→RUS 2011 (JPN reports 11,826.3, RUS 6,710.5 USD m" in shown
    assert "JPN→RUS 1995" not in shown


def test_sanctions_2022_compares_with_untreated_donors_and_its_verdict_uses_that_design(runs):
    """After the world matrix ends (2020), the 2022 page still compares Japan with untreated donors: Russia's IMTS reports with
    every partner. No donor is a 2022 sender or a listed hub (read here from the CSVs), and the answer line takes its p-value and
    its placebo count from that design's own rows."""
    nb = runs["good sanctions 2022 exports"][1]
    shown = text(nb)
    donors = re.search(r"Donors \((\d+)\): ([A-Z, ]+)\.", shown)
    names = donors.group(2).split(", ")
    assert int(donors.group(1)) == len(names) >= 30
    senders, hubs = pd.read_csv(ROOT / "data" / "sanctions_senders.csv"), pd.read_csv(ROOT / "data" / "diversion_hubs.csv")
    assert not set(names) & (set(senders[senders.episode == 2022].iso3.dropna()) | set(hubs.iso3) | {"JPN"})
    assert "IMF IMTS, Russia-reported" in shown
    p = re.search(r"Design-valid p-value \(studentized randomization, \d+ untreated donors\)</td>\s*<td>([0-9.]+)</td>\s*<td>Japan ranks (\d+) of (\d+)", shown)
    k, m = map(int, re.search(r"Placebo years of this design significant at 5 %</td>\s*<td>(\d+) of (\d+)</td>", shown).groups())
    f = first_finding(nb)
    assert f"(rank {p.group(2)} of {p.group(3)})" in f["answer"] and f"{k} of {m} placebos significant" in f["answer"], f["answer"]
    assert f["answer"].startswith("No effect can be read") == (k > 0)


def test_sanctions_2022_sets_its_headline_beside_the_published_estimates(runs):
    "The 2022 page's own DiD heads the table of published 2022 estimates, which cites them and explains the gap; the 2014 studies are not in it."
    assert_published_beside(runs["good sanctions 2022 exports"][1], ["Mancini", "Chorzempa"], ["Crozet", "Bělín"])


def test_second_comparison_names_its_controls_that_are_not_untreated(runs):
    "Beside the second comparison's estimate, the page names each control that sanctioned Russia in the episode or is a listed diversion hub (read here from the CSVs)."
    senders, hubs = pd.read_csv(ROOT / "data" / "sanctions_senders.csv"), pd.read_csv(ROOT / "data" / "diversion_hubs.csv")
    controls = ["CHN", "KOR", "IND", "DEU", "USA", "TUR"]  # the defaults of the 2022 run
    treated = [c for c in controls if c in set(senders[senders.episode == 2022].iso3) | set(hubs.iso3)]
    assert len(treated) >= 1
    shown = text(runs["good sanctions 2022 exports"][1])
    assert f"{len(treated)} of {len(controls)} controls are not untreated ({', '.join(treated)}: senders or diversion hubs" in shown


def test_event_window_sets_its_headline_beside_the_published_estimates(runs):
    "The window's own estimate heads the studies of political tensions and trade (not the sanctions studies), and the page says why they differ, from its own ranks."
    nb = runs["good window around the December 2016 summit"][1]
    assert_published_beside(nb, ["Heilmann", "Fuchs", "Davis"], ["Crozet", "Mancini", "Chorzempa"])
    shown = text(nb).replace("&#x27;", "'")
    rank, n = map(int, re.search(r"Rank among the same window at other years</td>\s*<td>(\d+) of (\d+)<", shown).groups())
    assert ("agrees with them" in shown) == (rank / n >= 0.05) and ("the exception they did not find" in shown) == (rank / n < 0.05)
    assert re.search(r"the same 4-year windows at other years moved Japan's trade relative to the untreated partners by [+-]\d+ % to [+-]\d+ %", shown)
