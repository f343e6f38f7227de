"""The synthetic-control analysis, run as the report runner runs it (a warm kernel, parameters injected by papermill):
it opens with a verdict that agrees with the placebo test it shows, draws its figures and ends with sources and a
version stamp; a year outside the world trade matrix stops it in the parameter-check cell with a one-line message.
(The papermill CLI path is tested on other analyses, in test_analyses_econ and test_analyses_polgeo.)"""
import re
import pytest

from notebook_runs import assert_check_cell_rejects, assert_first_screen, assert_published_beside, assert_ran_clean, in_kernel, run_all, text
from kuril_research.verdicts import sig


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "Default, exports and the 2022 window (Russia's IMTS panel), in one warm kernel: each fits all three flows."
    d = tmp_path_factory.mktemp("synth")
    return run_all({"default": lambda: in_kernel("synthetic_control", d / "default.ipynb"),
                    "exports": lambda: in_kernel("synthetic_control", d / "exports.ipynb", {"flow": "exports"}),
                    "2022": lambda: in_kernel("synthetic_control", d / "2022.ipynb", {"treatment_year": 2022, "pre_start": 2016, "end_year": 2024})}, 1)


def plain(nb):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(nb))).replace("&#x27;", "'")


@pytest.mark.parametrize("name", ["default", "exports", "2022"])
def test_runs_and_leads_with_a_verdict_its_tests_support(runs, name):
    p, nb = runs[name]
    assert_ran_clean(p, nb, 2)
    f = assert_first_screen(nb)  # question, finding, key numbers, the first figure; parameters and sources in the appendix
    md = f["answer"]
    t = plain(nb)
    pval = float(re.search(r"Placebo p-value \(post/pre RMSPE ratio\) ([0-9.]+) rank (\d+) of (\d+)", t).group(1))
    rank, n = map(int, re.search(r"Placebo p-value \(post/pre RMSPE ratio\) [0-9.]+ rank (\d+) of (\d+)", t).groups())
    assert abs(pval - rank / n) < 5e-4                       # the p-value is the rank over all units, Japan included
    rp = float(re.search(r"Placebo p among comparable fits ([0-9.]+)", t).group(1))
    if pval > 0.05 or rp > 0.05: assert "Not distinguishable" in md or "no reliable twin" in md
    if pval <= 0.05 and rp <= 0.05: assert "is larger than the controls' variation" in md or "no reliable twin" in md
    assert n >= 31                                           # at least 30 donors besides Japan
    # the verdict line is computed from all the tests the page shows: both placebo ranks and the pre-period fit
    line = md.split("\n")[0]
    pre = float(re.search(r"Pre-period RMSPE \d{4}–\d{4} ([0-9.]+) placebo median ([0-9.]+)", t).group(1))
    assert f"placebo p = {pval:.2f} (rank {rank} of {n})" in line or f"placebo p = {pval:.3f} (rank {rank} of {n})" in line, line
    assert re.search(rf"placebo among the \d+ comparable fits p = {rp:.2f}", line) or f"comparable fits p = {rp:.3f}" in line, line
    assert f"pre-fit RMSPE {sig(pre)}" in line, line  # two significant figures in both (a very close fit is not printed as 0.000)


def test_sets_its_gap_beside_the_published_estimates(runs):
    nb = runs["default"][1]
    assert_published_beside(nb, ["Mancini, M., Conteduca, F. P. & Borin, A. (2024)", "10.1093/epolic/eiaa006"], ["Chorzempa", "Bělín"])
    assert re.search(r"Here the gap is -?[0-9]+ % \(2014–2020, Japan–Russia turnover, Russia-reported\), and the tests grade it: (Not distinguishable|No effect|.* is larger)", plain(nb))


def test_donor_weights_sum_to_one(runs):
    t = plain(runs["default"][1])
    block = re.search(r"Donor weights \(\d+ of \d+ donors above 0.001\) donor weight (.*?) (?:In-space|Placebo table|Japan's gap)", t)
    w = [float(x) for x in re.findall(r"[A-Z]{3} ([0-9.]+)", block.group(1))]
    assert 0.99 <= sum(w) <= 1.001, w


def test_the_2022_window_uses_untreated_donors_of_russias_imts_panel(runs):
    "Past the world matrix, the donors come from Russia's IMTS reports with every partner: none a 2022 sender or a listed hub (read from the CSVs)."
    import pandas as pd
    from notebook_runs import ROOT
    t = plain(runs["2022"][1])
    assert "russia_trade_imts" in t and "IMF estimates" in t and "Mean gap 2022–2024" in t  # the tables read (version stamp) and the notes
    w = re.search(r"Donor weights \(\d+ of (\d+) donors above 0.001\)", t)
    block = re.search(r"Donor weights \(\d+ of \d+ donors above 0.001\) donor weight (.*?) (?:In-space|Placebo table|Japan's gap)", t)
    names = set(re.findall(r"([A-Z]{3}) [0-9.]+", block.group(1)))
    senders, hubs = pd.read_csv(ROOT / "data" / "sanctions_senders.csv"), pd.read_csv(ROOT / "data" / "diversion_hubs.csv")
    assert int(w.group(1)) >= 30 and names and not names & (set(senders[senders.episode == 2022].iso3.dropna()) | set(hubs.iso3) | {"JPN"})


@pytest.mark.parametrize("values, message", [
    ({"end_year": 2025, "pre_start": 2016, "treatment_year": 2022}, "parameter end_year=2025: outside the years of russia_trade_imts (Russia-reported)"),
    ({"end_year": 2023}, "parameter pre_start=2002: outside the years of russia_trade_imts (Russia-reported)"),
    ({"end_year": 2023, "reported_by": "partner"}, "parameter end_year=2023: outside the years of the world trade matrix"),
])
def test_a_window_outside_its_panel_stops_in_the_check_cell(values, message):
    assert_check_cell_rejects("synthetic_control", values, message)


def test_names_the_mirror_flagged_cells_and_shows_the_estimate_without_their_years(runs):
    """Issue 9, finding 4: the report names the mirror-flagged cells of Japan–Russia trade it uses (2002–2020) and shows the
    mean gap and placebo p with their years dropped for every unit, recomputed here through `synth.study` on the years left."""
    import pandas as pd
    from kuril_research import synth as sc
    from notebook_runs import ROOT
    t = plain(runs["default"][1])
    f = pd.read_csv(ROOT / "data" / "mirror_flags.csv")
    jr = f[f.flagged & f.year.between(2002, 2020) & (((f.exporter == "JPN") & (f.importer == "RUS")) | ((f.exporter == "RUS") & (f.importer == "JPN")))]
    assert {2009, 2011} <= set(jr.year)
    assert "Mirror outliers." in t
    for r in jr.itertuples():
        assert f"{r.exporter}→{r.importer} {r.year} ({r.exporter} reports {r.exporter_reported:,.1f}, {r.importer} {r.importer_reported:,.1f} USD m" in t
    m = re.search(r"Without the mirror-flagged years \(([0-9, ]+)\): mean gap (-?[0-9.]+) % ([-+][0-9.]+) log points \(with them ([-+][0-9.]+)\); "
                  r"the years dropped for every unit \(a balanced panel\) Without them: placebo p-value ([0-9.]+) rank (\d+) of (\d+)", t)
    assert m, "no 'Without the mirror-flagged years' rows in the key numbers"
    drop = [int(y) for y in m.group(1).split(", ")]
    assert set(jr.year) <= set(drop)
    r = sc.study(pre_years=[y for y in range(2002, 2014) if y not in drop], post_years=[y for y in range(2014, 2021) if y not in drop])
    assert m.group(3) == f"{r['mean_post_gap']:+.3f}" and m.group(4) != m.group(3)
    assert (float(m.group(5)), int(m.group(6)), int(m.group(7))) == (round(r["p"], 3), r["rank"], r["n_units"])
