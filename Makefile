VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= $(abspath ../shared/data)
export RECLOOP_DATA_DIR ?= $(DATA)

.PHONY: demo test lint bench clean

$(VENV)/bin/activate:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-dev: pyproject.toml $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed-dev
	$(VENV)/bin/recloop demo

test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-dev
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) benchmarks/bench_eval.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
