"""The mirror-ratio outlier screen (issue 9, finding 4): the rule on made-up figures, the real 2011 Japan→Russia cell
recomputed here from `trade.csv` and found flagged, `kuril data validate` listing it as a flag (exit 0), and the
reports that use it saying so and showing the estimate without it."""
import json

import numpy as np
import pandas as pd
import pytest

from conftest import kuril
from notebook_runs import ROOT, assert_first_screen, assert_published_beside, assert_ran_clean, papermill, text

DATA = ROOT / "data"


def history(ratios, exporter="JPN", importer="RUS", start=2000):
    "A pair-direction with the exporter reporting 100 every year and the importer 100 × each ratio."
    n = len(ratios)
    return pd.DataFrame({"exporter": [exporter] * n, "importer": [importer] * n, "year": range(start, start + n),
                         "exporter_reported": [100.0] * n, "importer_reported": [100.0 * r for r in ratios], "source_id": "s"})


def test_the_rule_flags_beyond_three_scaled_mads_and_only_with_eight_years():
    from kuril_research.build.trade import mirror_screen
    logs = [0.10, 0.12, 0.08, 0.11, 0.09, 0.10, 0.13, 0.07, 0.10]
    with_far = np.array(logs + [-5.0])  # the median and MAD do not depend on how far the last year lies, once it lies furthest
    med, mad = np.median(with_far), np.median(np.abs(with_far - np.median(with_far)))
    assert (med, round(mad, 6)) == (0.10, 0.015)
    limit = 3 * 1.4826 * mad
    base = np.exp(logs)
    just_in, just_out = np.exp(med - 0.98 * limit), np.exp(med - 1.02 * limit)
    s = mirror_screen(pd.concat([history([*base, just_in]), history([*base, just_out], exporter="KOR")], ignore_index=True))
    assert s.loc[s.exporter == "JPN", "flagged"].sum() == 0
    assert s.loc[s.exporter == "KOR", "flagged"].tolist() == [False] * 9 + [True]
    z = s.loc[(s.exporter == "KOR") & s.flagged, "robust_z"].item()
    assert z == pytest.approx(-1.02 * 3, abs=0.2)
    short = mirror_screen(history([1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 0.2]))  # seven years: no history to judge by
    assert not short.flagged.any() and short.robust_z.isna().all()


def test_the_2011_japan_to_russia_cell_is_flagged_in_the_package():
    t = pd.read_csv(DATA / "trade.csv")
    dots = t[t.source_id == "imf_dots_2022"]
    ex = dots[(dots.reporter == "JPN") & (dots.partner == "RUS") & (dots.flow == "exports")].set_index("year").value
    im = dots[(dots.reporter == "RUS") & (dots.partner == "JPN") & (dots.flow == "imports")].set_index("year").value
    lr = np.log(im / ex).dropna()
    med = lr.median()
    mad = (lr - med).abs().median()
    z = (lr - med) / (1.4826 * mad)
    assert len(lr) >= 8 and z[2011] < -3
    f = pd.read_csv(DATA / "mirror_flags.csv")
    row = f[(f.exporter == "JPN") & (f.importer == "RUS") & (f.year == 2011)].iloc[0]
    assert bool(row.flagged)
    assert row.exporter_reported == pytest.approx(ex[2011]) and row.importer_reported == pytest.approx(im[2011])
    assert row.robust_z == pytest.approx(z[2011])
    assert set(f[f.flagged & (f.exporter == "JPN") & (f.importer == "RUS")].year) == set(z[z.abs() > 3].index)
    dp = json.loads((DATA / "datapackage.json").read_text(encoding="utf-8"))
    r = next(r for r in dp["resources"] if r["name"] == "mirror_flags")
    assert r["source_ids"] == ["imf_dots_2022"] and r["rows"] == len(f) and r["coverage"]["flagged"] == int(f.flagged.sum())
    assert r["inputs"] and all(i["path"].startswith("econ/imf_dots_annual_by_reporter_2022snapshot/") for i in r["inputs"])


def test_validate_lists_the_flagged_cells_as_flags_not_errors():
    p = kuril("data", "validate", "--no-peer")
    assert p.returncode == 0, p.stderr
    assert "valid" in p.stdout and "flags, not errors" in p.stdout
    line = next(l for l in p.stdout.splitlines() if "JPN→RUS 2011" in l)
    assert "mirror_flags.csv row" in line and "11,826.3" in line and "6,710.5" in line


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("mirror")
    return {r: papermill(r, d / f"{r}.ipynb") for r in ("sanctions_effect", "event_window")}


@pytest.mark.parametrize("report", ["sanctions_effect", "event_window"])
def test_a_report_that_uses_the_cell_says_so_and_shows_the_estimate_without_it(reports, report):
    p, nb = reports[report]
    assert_ran_clean(p, nb, 1)
    shown = text(nb)
    assert "Mirror outliers." in shown and "JPN→RUS 2011 (JPN reports 11,826.3, RUS 6,710.5 USD m" in shown
    assert "Without the" in shown and "mirror-flagged cells" in shown


def test_sanctions_effect_estimate_without_the_flagged_cells_matches_an_independent_fit(reports):
    import statsmodels.formula.api as smf
    from kuril_research import trade as tr
    t = pd.read_csv(DATA / "trade.csv")
    f = pd.read_csv(DATA / "mirror_flags.csv")
    panel = tr.russia_panel(t, ["JPN", *tr.CONTROLS], "turnover")
    panel = panel[panel.year.between(2008, 2020)]
    bad = {(e if e != "RUS" else i, y) for e, i, y in f[f.flagged][["exporter", "importer", "year"]].itertuples(index=False)}
    clean = panel[[(p, y) not in bad for p, y in zip(panel.partner, panel.year)]].assign(lv=lambda d: np.log(d.value))
    assert len(clean) == len(panel) - 8
    clean["tp"] = ((clean.partner == "JPN") & (clean.year >= 2014)).astype(float)
    coef = smf.ols("lv ~ tp + C(partner) + C(year)", clean).fit().params["tp"]
    assert f"{coef:.3f} log points (with them" in text(reports["sanctions_effect"][1])


def test_sanctions_effect_opens_with_its_finding(reports):
    "Finding 9: the default run opens with question, verdict, key numbers and the donors figure; parameters and sources in the appendix."
    f = assert_first_screen(reports["sanctions_effect"][1])
    assert f["answer"].startswith("Not distinguishable") or "larger than" in f["answer"], f["answer"]


def test_sanctions_effect_sets_its_headline_beside_the_published_estimates(reports):
    "The 2014 page's own DiD (the finding's number) heads the table of published 2014 estimates, with their citations; the 2022 studies are not in it."
    assert_published_beside(reports["sanctions_effect"][1], ["Crozet", "Bělín", "10.1093/epolic/eiaa006"], ["Mancini", "Chorzempa"])
