# The two commands of the README: `make demo` runs the hall, `make test` runs every test.
VENV := .venv
STAMP := $(VENV)/.hallq-installed

.PHONY: setup demo test lint bench

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py scripts/setup.sh
	bash scripts/setup.sh
	touch $@

demo: setup
	$(VENV)/bin/hallq demo $(ARGS)

test: setup lint
	$(VENV)/bin/python -m pytest $(ARGS)
	bash scripts/wheel-test.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: setup
	$(VENV)/bin/hallq bench $(ARGS)
