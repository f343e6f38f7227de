# kuril-research: `make reports` (the main job) and `make test` (every test) set everything up on a fresh machine.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
# The environment stamp is named by a hash of what the install depends on ([project] dependencies, extras, scripts,
# entry points, Python version), not by pyproject.toml's timestamp: nbdev-export rewrites the file with the same
# content, and an mtime stamp would reinstall after every export. Edit those lists and the next `make` reinstalls.
DEPS_HASH := $(shell python3 -c 'import hashlib, json, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	keys = ("dependencies", "optional-dependencies", "scripts", "entry-points", "requires-python"); \
	print(hashlib.sha256(json.dumps([p.get(k) for k in keys], sort_keys=True).encode()).hexdigest()[:12])' 2>/dev/null \
	|| sha256sum pyproject.toml | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
export OMP_NUM_THREADS ?= 1
# one folder of results computed once (checked tables, fitted gravity models; `data.memo`) for everything a make target
# starts (notebooks, the docs build, the tests with their own reports folders): each is keyed by the bytes of the data it
# reads, its parameters and its code, so it is reused only where it is the same result
export KURIL_CACHE ?= $(CURDIR)/reports/.joblib
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: help env reports test test-slow test-nbs test-py drift data validate lab lab-settings kernelspec hooks docs bench chromium fonts readme clean

help:
	@echo "make reports   build the environment if needed, then run every report in the catalogue"
	@echo "make test      build the environment if needed, then run every test but the slow ones"
	@echo "make test-slow the slow tests (every catalogue entry through papermill, Monte Carlo checks); CI runs them too"
	@echo "make data      rebuild data/ from the raw sources (settings.ini [paths] raw_dir)"
	@echo "make docs      build the docs site into _docs/"
	@echo "make readme    regenerate README.md from nbs/index.ipynb"
	@echo "make bench     benchmark the report runner and the gravity fit (each against its plain baseline, in one run)"
	@echo "make lab       start JupyterLab at nbs/index.ipynb with the project's kernel, no network calls"
	@echo "make kernelspec  set the project's kernel in every notebook (run it after adding a notebook)"
	@echo "make hooks     install nbdev's git hooks (clean notebooks on commit)"

env: $(STAMP)
$(STAMP):
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name kuril-research --display-name "Python (kuril-research)" >/dev/null
	$(BIN)/python tools/lab_settings.py >/dev/null
	rm -f $(VENV)/.installed $(VENV)/.installed-*
	touch $(STAMP)

reports: $(STAMP) fonts
	$(BIN)/kuril run

data: $(STAMP)
	$(BIN)/kuril data build

validate: $(STAMP)
	$(BIN)/kuril data validate

# drift works on a scratch copy of the tracked files, so it runs beside the docs build and the notebook tests
test: $(STAMP) chromium fonts
	@$(MAKE) --no-print-directory -j2 drift test-nbs
	@$(MAKE) --no-print-directory test-py

drift: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash .ci/drift

# The library notebooks and the home page run once, in the docs build: `kuril docs` runs every cell nbdev-test runs (a
# raising cell fails it, naming notebook and cell) and keeps each executed page in _docs-cache/, keyed by the notebook,
# the code, the data and the settings; the browser test of the site (tests/test_site.py) then reuses those pages instead
# of running the notebooks again. nbdev-test runs the analyses with their defaults, the template analysis too (nbdev
# skips files starting with _ unless told otherwise). --timing prints where the time goes.
test-nbs: $(STAMP)
	$(BIN)/kuril docs
	$(BIN)/nbdev-test --n-workers 2 --timing --skip-file-re '^\.' nbs/analyses

# two pytest workers (pytest-xdist), one test file each at a time, so that a file's module fixtures are built once
test-py: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

# tests marked slow (pytest's addopts deselect them): every catalogue entry through the papermill CLI, Monte Carlo checks
# and the library notebooks' cells marked `#| slow` (Monte Carlo coverage checks), which `nbdev-test` skips by default
test-slow: $(STAMP) fonts
	re=$$(grep -l '"#| slow' nbs/*.ipynb | xargs -rn1 basename | sed 's/\./\\./g' | paste -sd'|'); \
	if [ -n "$$re" ]; then $(BIN)/nbdev-test --flags slow --file-re "^($$re)$$"; fi
	$(BIN)/python -m pytest -m slow

# Debian packages: chromium drives the browser tests, fonts-noto-cjk lets the maps label the islands in Japanese.
# Installed with apt-get when missing and possible (root, as in CI); otherwise the tests or labels say what is missing.
APT_INSTALL = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	  else echo "$(1) is missing and cannot be installed here (needs root and apt-get): $(2)"; fi

chromium:
	@command -v chromium >/dev/null || { $(call APT_INSTALL,chromium,the browser tests will be skipped); }

fonts:
	@fc-list :lang=ja 2>/dev/null | grep -q . || { $(call APT_INSTALL,fonts-noto-cjk,maps are labelled in romanised names only); }

docs: $(STAMP)
	$(BIN)/kuril docs

readme: $(STAMP)
	$(BIN)/kuril docs --readme

bench: $(STAMP)
	$(BIN)/python tools/bench.py
	$(BIN)/python tools/bench.py --gravity

# The lab's settings live in the environment (tools/lab_settings.py): project kernel by default, no news, no update
# check, no extension manager. Written again here so that a checkout whose environment predates them gets them too.
lab-settings: $(STAMP)
	@$(BIN)/python tools/lab_settings.py

lab: lab-settings
	cd nbs && PATH="$(CURDIR)/$(BIN):$$PATH" jupyter lab index.ipynb

# A notebook added by hand (or saved by JupyterLab) may lack the project's kernel or carry other metadata: fix all.
kernelspec: $(STAMP)
	$(BIN)/python tools/kernelspec.py
	$(BIN)/nbdev-clean

hooks: $(STAMP)
	$(BIN)/nbdev-install-hooks

clean:
	rm -rf _docs _proc .pytest_cache
