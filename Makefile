# Two commands do all set-up on a fresh machine with Python 3.11+: `make demo` and `make test`.
# Every target installs the versions the suite last passed with, constraints/tested.txt (pip reads a
# constraints file from PIP_CONSTRAINT): left open, pip can spend an hour backtracking when a new boto3
# outruns the botocore that s3fs's aiobotocore pins (as on 2026-12-03: boto3 1.44, aiobotocore wanting
# botocore < 1.43.118). `make clean && PIP_CONSTRAINT= make test` installs the newest pyproject.toml allows.
# `make test-min` pins the floors instead, and clears it.
PIP_CONSTRAINT ?= constraints/tested.txt
export PIP_CONSTRAINT
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint test-min test-browser notebooks jupyter clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/iterable-sim demo

# The tests, then every notebook re-run and compared with its committed outputs (nbval); with no
# ITERABLE_API_KEY, so the live-sending notebook shows what it does without a key.
test: $(STAMP)
	env -u ITERABLE_API_KEY $(PY) -m pytest tests/ notebooks/ --nbval --nbval-current-env

# The same against the lowest versions pyproject.toml allows, in a venv of their own (.venv-min).
test-min:
	env -u PIP_CONSTRAINT bash .ci/min-versions

# ruff and mypy as pyproject.toml configures them (the `lint` extra: both, and the stubs mypy reads).
lint: $(STAMP)
	$(PY) -m pip install --quiet -e ".[lint]"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The notebooks and the `explore` page in JupyterLab / Voilà, in Debian's Chromium, clicked as a user would
# (installs Chromium with apt when missing, and the `browser` extra).
test-browser: $(STAMP)
	$(PY) -m pip install --quiet -e ".[browser]"
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	env -u ITERABLE_API_KEY $(PY) -m pytest browser_tests/ -p no:cacheprovider

# Re-run every notebook and save it with its tables and charts but no live-widget state (see docs/notebooks.md).
notebooks: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,jupyter]"
	env -u ITERABLE_API_KEY $(PY) -m iterable_sim.widgets.notebook_files --execute notebooks/*.ipynb

# JupyterLab refuses to run as root (containers, dev boxes) unless told it may. Saving drops the live part
# of iterable_sim's widgets, so a reopened notebook shows their static view.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

jupyter: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,jupyter]"
	$(VENV)/bin/jupyter lab notebooks/ $(ALLOW_ROOT) \
		--ContentsManager.pre_save_hook=iterable_sim.widgets.notebook_files.pre_save_hook

clean:
	rm -rf $(VENV) .venv-min .pytest_cache .hypothesis .mypy_cache .ruff_cache
