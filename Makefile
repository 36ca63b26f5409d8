# Two commands do all set-up on a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test jupyter clean

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

# JupyterLab refuses to run as root (containers, dev boxes) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

jupyter: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,jupyter]"
	$(VENV)/bin/jupyter lab notebooks/ $(ALLOW_ROOT)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
