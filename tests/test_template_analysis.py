"""The template analysis (`nbs/analyses/_template.ipynb`) runs, so that a copy of it starts from a working report.

This file is also the template of an analysis test: copy it to `tests/test_<analysis>.py` with your analysis' name
in `ANALYSIS`, then write
- GOOD: runs with non-default parameters (papermill `-p NAME VALUE`, `-y "NAME: [a, b]"` for a list); each must
  finish without an error, draw at least the given number of figures and end with the sources table and the version
  stamp (`assert_ran_clean`);
  each must also open with the first screen — the question, the finding, the key numbers, a figure — and keep the
  parameters and sources in the `## Appendix` at the end (`assert_first_screen`);
- BAD: runs with a bad parameter; each must stop in the parameter-check cell with a `ParameterError` whose message
  contains the given text (`assert_check_cell_rejects`, which runs the notebook's cells in the test process up to the
  check cell, the arguments typed as papermill's CLI types them: `cli_values`); one of them (`CLI_BAD`) also goes
  through the papermill CLI and must stop there before any figure (`assert_stopped_in_check_cell`);
- one test that recomputes a number the report shows from the committed CSV in `data/`, independently of the library.
One good run (`CLI_GOOD`) goes through the real papermill command line (`notebook_runs.papermill`), the others through
warm kernels of the report runner (`notebook_runs.in_kernel`), two at a time, once per module (`notebook_runs.run_all`)."""
import re
from functools import partial
import pandas as pd
import pytest

from notebook_runs import (ROOT, assert_check_cell_rejects, assert_first_screen, assert_ran_clean, assert_stopped_in_check_cell, cli_values,
                           in_kernel, papermill, run_all, text)

ANALYSIS = "_template"  # the notebook's file name in nbs/analyses/, without .ipynb

GOOD = {  # case: (papermill arguments, at least this many figures)
    "defaults": ([], 1),
    "imports since 2010, the 2022 sanctions": (["-p", "flow", "imports", "-p", "start_year", "2010", "-p", "sanctions_year", "2022"], 1),
    "turnover, two event categories": (["-p", "flow", "turnover", "-y", "event_categories: [sanctions, island_visit]"], 1),
}

CLI_GOOD = "turnover, two event categories"  # the good run that goes through the papermill CLI (its -p and -y arguments too)

BAD = {  # case: (papermill arguments, text the error must contain)
    "unknown name": (["-p", "flwo", "imports"], "unknown parameter flwo='imports'"),
    "wrong type": (["-r", "start_year", "abc"], "parameter start_year='abc': expected int, got str"),
    "year outside the data": (["-p", "end_year", "2030"], "parameter end_year=2030: outside the years covered by trade (1992–2024)"),
    "end before start": (["-p", "start_year", "2020", "-p", "end_year", "2010"], "parameter end_year=2010 is before start_year=2020"),
    "unknown flow": (["-p", "flow", "balance"], "parameter flow='balance': 'balance' is not allowed; allowed: exports, imports, turnover"),
    "year outside a date column": (["-p", "sanctions_year", "1990"], "parameter sanctions_year=1990: outside the years covered by events (2014–2022)"),
    "no event category": (["-y", "event_categories: []"], "parameter event_categories=[]: selects nothing"),
}

CLI_BAD = "unknown name"  # the bad parameter that also goes through the papermill CLI and a real kernel's `In`


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every good run and the CLI's bad one, on two threads: {case: (CompletedProcess or KernelRun, output notebook)}."""
    d = tmp_path_factory.mktemp("papermill")
    out = lambda k: d / (re.sub(r"\W+", "_", k) + ".ipynb")
    jobs = {f"good {CLI_GOOD}": partial(papermill, ANALYSIS, out(f"good {CLI_GOOD}"), *GOOD[CLI_GOOD][0]),
            f"bad {CLI_BAD}": partial(papermill, ANALYSIS, out(f"bad {CLI_BAD}"), *BAD[CLI_BAD][0])}
    jobs |= {f"good {k}": partial(in_kernel, ANALYSIS, out(f"good {k}"), cli_values(args)) for k, (args, _) in GOOD.items() if k != CLI_GOOD}
    return run_all(jobs, 2)


@pytest.mark.parametrize("case", list(GOOD))
def test_runs(runs, case):
    assert_ran_clean(*runs[f"good {case}"], GOOD[case][1])


@pytest.mark.parametrize("case", list(GOOD))
def test_opens_with_the_finding_key_numbers_and_figure(runs, case):
    "The shape a copy starts from: question, finding, key numbers, the figure; parameters and sources in the appendix."
    assert_first_screen(runs[f"good {case}"][1])


@pytest.mark.parametrize("case", list(BAD))
def test_bad_parameter_stops_in_the_check_cell(case):
    args, message = BAD[case]
    assert_check_cell_rejects(ANALYSIS, cli_values(args), message)


def test_a_bad_parameter_stops_the_papermill_cli_in_the_check_cell(runs):
    "The same through the papermill CLI: it exits non-zero, prints the message, and the check cell is the one that failed."
    assert_stopped_in_check_cell(*runs[f"bad {CLI_BAD}"], message=BAD[CLI_BAD][1])


def test_the_change_is_recomputed_from_trade_csv(runs):
    "Russia's exports to Japan, 2013 (IMF DOTS) and 2024 (IMF IMTS), and the change, straight from data/trade.csv."
    t = pd.read_csv(ROOT / "data" / "trade.csv")
    rus = t[(t.reporter == "RUS") & (t.partner == "JPN") & (t.flow == "exports")]
    v2013 = rus[(rus.source_id == "imf_dots_2022") & (rus.year == 2013)].value.item() / 1000
    v2024 = rus[(rus.source_id == "imf_imts_rus") & (rus.year == 2024)].value.item() / 1000
    shown = text(runs["good defaults"][1])
    assert f"{v2013:.2f} USD bn" in shown and f"{v2024:.2f} USD bn" in shown
    assert f"{100 * (v2024 / v2013 - 1):.1f} %" in shown
    assert "not an effect of the sanctions" in shown  # what the data cannot support
