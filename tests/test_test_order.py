"The order `make test` hands test files to its workers: longest first by the last run's times, kept in pytest's cache."
from conftest import longest_first

def test_longest_files_first_and_each_file_in_its_own_order():
    ids = ["tests/a.py::t1", "tests/a.py::t2", "tests/b.py::t1", "tests/c.py::t1", "tests/b.py::t2"]
    order = [ids[i] for i in longest_first(ids, {"tests/a.py": 1.0, "tests/b.py": 9.5})]
    assert order == ["tests/b.py::t1", "tests/b.py::t2", "tests/a.py::t1", "tests/a.py::t2", "tests/c.py::t1"]
    assert [ids[i] for i in longest_first(ids, {})] == ids  # no times (a fresh clone): the collection order

