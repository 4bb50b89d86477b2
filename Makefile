# The two commands of the README:  `make run`  and  `make test`.
# Each creates .venv with the first Python >= 3.12 it finds (python3.13, python3.12, pyenv's
# versions, python3), installs mcroi into it, and runs.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
DRAWS ?= 1000000
SEED  ?= 7
PYTEST_ARGS ?= -m "not slow" --durations=15

FIND_PYTHON := for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python $$HOME/.pyenv/versions/3.12*/bin/python /usr/local/bin/python3.1[2-9] python3 python; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$p; exit 0; fi; \
	done; echo "no Python >= 3.12 found: install one (e.g. pyenv install 3.12)" >&2; exit 1

.PHONY: run test lint venv bench clean

$(VENV)/.installed: pyproject.toml
	@set -e; py=$$($(FIND_PYTHON)); echo "using $$py ($$($$py --version))"; \
	  [ -x $(PY) ] || $$py -m venv $(VENV); \
	  $(PY) -m pip install -q --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }; \
	  echo "installing mcroi and its dependencies into $(VENV) (log: $(VENV)/install.log)"; \
	  $(PY) -m pip install -q -e '.[test]' >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@touch $@

venv: $(VENV)/.installed

run: venv
	$(VENV)/bin/mcroi simulate --draws $(DRAWS) --seed $(SEED)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff format --check mcroi tests benchmarks
	$(VENV)/bin/ruff check mcroi tests benchmarks
	$(VENV)/bin/mypy mcroi

bench: venv
	$(PY) -m pip install -q -e '.[test,bench]'
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
