"""The sanctions_gravity report through papermill: it runs clean with its verdict, figures, sources and version stamp;
bad parameters (an episode after the world matrix, an unknown sender set or reporting rule) stop it in its check
cell. The PPML fits are cached by `gravity.fit` (joblib), so a second run reuses them."""
import pytest
from notebook_runs import papermill, text, assert_ran_clean
from test_analyses_econ import run_to_check_cell


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return papermill("sanctions_gravity", tmp_path_factory.mktemp("gravity") / "good.ipynb", "-p", "ri_draws", "199")


def test_runs_clean_with_verdict_and_published_estimates(good):
    p, nb = good
    assert_ran_clean(p, nb, 2)
    t = text(nb)
    assert "Verdict." in t and "randomization p" in t
    assert "Nothing after 2020" in t
    assert "Crozet" in "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


@pytest.mark.parametrize("values,message", [
    ({"episode": 2022}, "parameter episode=2022: its senders start in 2022"),
    ({"sender_set": "g7"}, "parameter sender_set='g7': 'g7' is not allowed; allowed: measures, measures_ex_ukr, all"),
    ({"rule": "mirror"}, "parameter rule='mirror': 'mirror' is not allowed; allowed: importer, exporter, importer_then_exporter"),
    ({"last_year": 2023}, "parameter last_year=2023: outside the years covered by world_trade (1960–2020)"),
], ids=["episode-after-the-data", "unknown-sender-set", "unknown-rule", "years-outside"])
def test_bad_parameters_stop_in_the_check_cell(values, message):
    e = run_to_check_cell("sanctions_gravity", values)
    assert e is not None and type(e).__name__ == "ParameterError" and message in str(e), repr(e)
