# Everything runs from the project's own virtualenv, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test lint typecheck check schema bench deploy-plans lock upgrade-lock clean

# Exactly the locked versions (hashes checked), then drill itself without resolving anything.
$(BIN)/drill: pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
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

# Regenerate the JSON report schema after changing drill/report/_models.py, and the plan
# schema editors use after changing the plan models or a step type's params.
schema: install
	$(BIN)/python -c "from drill.report import json_schema; open('drill/report/schema.json', 'w').write(json_schema())"
	$(BIN)/drill schema > schemas/plan.schema.json

bench: install
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/run_memory.py
	$(BIN)/python bench/sandbox_drill.py

# kustomize reads only files under deploy/base: keep its copies of the plans current (a test
# fails when they differ; a new plan also needs a line in deploy/base/kustomization.yaml).
deploy-plans:
	rm -f deploy/base/plans/*.yaml
	cp plans/*.yaml deploy/base/plans/

# requirements/*.txt pin every package with its hashes: runtime.txt (what the image and a
# library install need), build.txt (what builds the wheel) and dev.txt (all of it plus the
# sandbox and the tools; runtime and build pins are its constraints, so versions agree).
# `make lock` keeps current pins where pyproject.toml still allows them; `make upgrade-lock`
# takes the newest allowed releases (the weekly workflow runs it and the suite).
UV_COMPILE = $(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes -q $(UV_FLAGS)

lock: install
	$(UV_COMPILE) pyproject.toml -o requirements/runtime.txt
	$(UV_COMPILE) requirements/build.in -o requirements/build.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev \
		-c requirements/runtime.txt -c requirements/build.txt -o requirements/dev.txt

upgrade-lock:
	$(MAKE) lock UV_FLAGS=--upgrade

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis reports
