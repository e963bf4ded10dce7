# Everything runs from the project's own virtualenv, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test lint typecheck check schema bench deploy-plans clean

$(BIN)/drill: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/drill

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

check: lint typecheck test
	$(BIN)/drill validate plans/*.yaml

# Regenerate the JSON report schema after changing drill/report/_models.py.
schema: install
	$(BIN)/python -c "from drill.report import json_schema; open('drill/report/schema.json', 'w').write(json_schema())"

bench: install
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/sandbox_drill.py

# kustomize reads only files under deploy/base: keep its copies of the plans current (a test
# fails when they differ; a new plan also needs a line in deploy/base/kustomization.yaml).
deploy-plans:
	rm -f deploy/base/plans/*.yaml
	cp plans/*.yaml deploy/base/plans/

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis reports
