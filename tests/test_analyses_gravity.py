"""The sanctions_gravity report through papermill: it runs clean with its verdict, figures, sources and version stamp;
bad parameters (an episode after the world matrix, an unknown sender set or reporting rule) stop it in its check
cell. The PPML fits are cached by `gravity.fit` (joblib), so a second run reuses them."""
import html
import re
import pytest
from notebook_runs import papermill, text, assert_first_screen, assert_published_beside, assert_ran_clean
from test_analyses_econ import run_to_check_cell

LABELS = ("senders (excl. Japan) → Russia", "Russia → senders (excl. Japan)", "Japan → Russia", "Russia → Japan")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return papermill("sanctions_gravity", tmp_path_factory.mktemp("gravity") / "good.ipynb", "-p", "ri_draws", "199")


def test_runs_clean_with_verdict_and_published_estimates(good):
    p, nb = good
    assert_ran_clean(p, nb, 2)
    t = text(nb)
    assert "Answer:" in t and "randomization p" in t
    assert "Nothing after 2020" in t
    md = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "general-equilibrium" in md
    assert_published_beside(nb, ["Crozet", "Miromanova", "10.1093/epolic/eiaa006"], ["Mancini", "Chorzempa"])


def test_opens_with_a_verdict_computed_from_all_its_tests(good):
    "The first line grades the four terms from the randomization p, the pre-years and the clustered p that the page shows."
    p, nb = good
    f = assert_first_screen(nb)  # question, finding, key numbers, the first figure; parameters and sources in the appendix
    line = f["answer"]
    assert line.startswith("Of the 4 results, "), line
    t = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text(nb))))
    # the key numbers give each p as the verdict line does ('= 0.19' or '< 0.001', `verdicts.peq`)
    ri = dict(re.findall(r"(" + "|".join(map(re.escape, LABELS)) + r"), from \d{4} .*?; randomization p ([=<] [0-9.]+)", t))
    crv = dict(re.findall(r"(" + "|".join(map(re.escape, LABELS)) + r"), from \d{4} .*?\(CRV1 by pair, p ([=<] [0-9.]+)\)", t))
    section = t.split("Pre-years significant at 5 %")[1][:1000]
    pre = dict((k, int(n)) for k, n in re.findall(r"(" + "|".join(map(re.escape, LABELS)) + r"): (\d+) of \d+", section))
    for k in ("Japan → Russia", "Russia → Japan"):  # one pair each: their pre-years by randomization, as their estimates
        assert re.search(re.escape(k) + r": \d+ of \d+ by randomization over the untreated partners", section), section
    assert set(ri) == set(crv) == set(pre) == set(LABELS), (ri, crv, pre)
    not_identified = line.find("not identified (pre-years not flat)")
    for k in LABELS:
        at = line.find(f"{k} (")
        assert at > 0 and f"randomization p {ri[k]}" in line[at:at + 120], (k, line)
        assert "CRV1 p" in line[at:at + 120]
        if pre[k]: assert 0 < not_identified < at, (k, line)  # a term with a significant pre-year is not identified
        elif float(ri[k][2:]) >= 0.05: assert "not distinguishable: " in line[:at] and (not_identified < 0 or at < not_identified), (k, line)


@pytest.mark.parametrize("values,message", [
    ({"episode": 2022}, "parameter episode=2022: its senders start in 2022"),
    ({"sender_set": "g7"}, "parameter sender_set='g7': 'g7' is not allowed; allowed: measures, measures_ex_ukr, all"),
    ({"rule": "mirror"}, "parameter rule='mirror': 'mirror' is not allowed; allowed: importer, exporter, importer_then_exporter"),
    ({"last_year": 2023}, "parameter last_year=2023: outside the years covered by world_trade (1960–2020)"),
], ids=["episode-after-the-data", "unknown-sender-set", "unknown-rule", "years-outside"])
def test_bad_parameters_stop_in_the_check_cell(values, message):
    e = run_to_check_cell("sanctions_gravity", values)
    assert e is not None and type(e).__name__ == "ParameterError" and message in str(e), repr(e)


def test_fit_cache_is_keyed_by_code_and_data_and_lives_in_KURIL_CACHE(tmp_path, monkeypatch):
    "`gravity.fit` keeps each fit in $KURIL_CACHE, reads it back, and fits again when the module's source changes."
    from kuril_research import gravity as g
    calls = []
    monkeypatch.setattr(g, "_fit", lambda *a: calls.append(a) or {"args": a})
    monkeypatch.setenv("KURIL_CACHE", str(tmp_path / "fits"))
    fit = g.fit.__wrapped__  # past the in-memory lru_cache, to the disk cache
    assert fit() == fit() == {"args": ((2006, 2020), "importer", 2014, "measures", True, "policy", 2013)} and len(calls) == 1
    assert len(list((tmp_path / "fits").glob("fit-*.joblib"))) == 1
    fit(model="fe_only"); assert len(calls) == 2
    monkeypatch.setattr(g, "_code_version", lambda: "edited")
    fit(); assert len(calls) == 3


@pytest.mark.slow
def test_fast_fit_equals_plain_pyfixest_on_the_world_panel():
    "Issue 8: on the 2006–2020 world panel `fit_warm` gives the plain `pf.fepois` call's coefficients and CRV1 SEs to 1e-6 (SEs relative)."
    import warnings; warnings.filterwarnings("ignore")
    from kuril_research import gravity as g
    flows = g.policy_dummies(g.directed_flows(), g.senders(2014), True)
    terms = g.policy_terms(True)
    plain = g.estimates(g.fit_plain(flows, terms), terms)
    ours = g.fit_warm(g.drop_singletons(g.drop_separated(g.fe_ids(flows))), terms)["est"]
    assert (plain.coef - ours.coef).abs().max() < 1e-6, (plain.coef, ours.coef)
    assert ((plain.se - ours.se) / plain.se).abs().max() < 1e-6, (plain.se, ours.se)


def test_names_the_mirror_flagged_flows_and_refits_without_them(good):
    """Issue 9, finding 4: the flagged cells that are flows of the importer-rule panel are named, and the four coefficients
    refitted without them are in the key numbers; recomputed here by dropping those flows by hand."""
    import pandas as pd
    from kuril_research import gravity as g
    from notebook_runs import ROOT
    t = text(good[1])
    f = pd.read_csv(ROOT / "data" / "mirror_flags.csv")
    f = f[f.flagged]
    pan = g.panel((2006, 2020), "importer", 2014, "measures", True)
    key = lambda d: d.exporter.astype(str) + d.importer.astype(str) + d.year.astype(str)
    used = f[key(f).isin(set(key(pan)))]
    assert {("JPN", "RUS", 2009), ("JPN", "RUS", 2011)} <= set(zip(used.exporter, used.importer, used.year))
    assert "Mirror outliers." in t and f"This report uses {len(used)} trade cells" in t
    for r in used.itertuples():
        assert f"{r.exporter}→{r.importer} {r.year} ({r.exporter} reports {r.exporter_reported:,.1f}, {r.importer} {r.importer_reported:,.1f} USD m" in t
    clean = g.drop_singletons(g.drop_separated(g.fe_ids(pan[~key(pan).isin(set(key(used)))])))
    est = g.fit_warm(clean, g.policy_terms())["est"]
    full = g.fit((2006, 2020))["est"]
    for term, label in zip(g.policy_terms(), LABELS):
        assert f"Without the {len(used)} mirror-flagged flows: {label}" in t
        assert f"{est.at[term, 'coef']:+.3f} log points (with them {full.at[term, 'coef']:+.3f})" in t, term
