# The two commands: `make run` (serve on the embedded default) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint typecheck format hadolint bench clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins (the project itself in editable mode).
$(VENV)/.synced: pyproject.toml uv.lock | $(BIN)/uv
	$(BIN)/uv sync --frozen --quiet
	touch $@

run: $(VENV)/.synced
	$(BIN)/sluicegate serve

test: $(VENV)/.synced lint typecheck hadolint
	$(BIN)/sluicegate rules test > /dev/null
	$(BIN)/pytest

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.synced
	$(BIN)/mypy

hadolint: $(VENV)/.synced
	$(BIN)/hadolint Dockerfile

format: $(VENV)/.synced
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.synced
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
