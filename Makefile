# The two commands: `make run` (serve on the embedded default) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(VENV)
# OPA, built from its Go module (pinned) into a git-ignored folder; first on PATH for the tests.
OPA_VERSION := v1.22.2
OPA_DIR := $(CURDIR)/.tools/opa-$(OPA_VERSION)
export PATH := $(OPA_DIR):$(PATH)
# The compiled core (native/, Rust) builds with cargo; rustup's, when it is not on PATH yet.
ifneq ($(wildcard $(HOME)/.cargo/bin/cargo),)
export PATH := $(PATH):$(HOME)/.cargo/bin
endif
NATIVE_SOURCES := native/pyproject.toml native/Cargo.toml native/Cargo.lock \
	$(wildcard native/src/*.rs native/python/sluicegate_native/*)

.PHONY: run test tools lint typecheck format hadolint native-test bench profile clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins (the project itself in editable mode) and builds the
# compiled core from native/ (maturin and cargo; a few minutes the first time).
$(VENV)/.synced: pyproject.toml uv.lock $(NATIVE_SOURCES) | $(BIN)/uv
	@command -v cargo > /dev/null || { echo "cargo not found: the compiled core (native/) needs the Rust toolchain (rustup, or Debian's cargo)"; exit 1; }
	$(BIN)/uv sync --frozen --quiet
	touch $@

run: $(VENV)/.synced
	$(BIN)/sluicegate serve

# Builds OPA when Go is here and OPA is not, and installs axe-core with npm; without them those
# tests skip (and fail under CI).
tools:
	@if [ -x "$(OPA_DIR)/opa" ]; then \
		echo "OPA $(OPA_VERSION): using $(OPA_DIR)/opa"; \
	elif command -v go > /dev/null; then \
		echo "OPA $(OPA_VERSION): building from its Go module into $(OPA_DIR) (once; a few minutes on a cold Go cache)"; \
		echo "OPA $(OPA_VERSION): go install (downloads the modules, then compiles; about a minute when cached)..."; \
		start=$$(date +%s); \
		GOBIN="$(OPA_DIR)" CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" \
			go install "github.com/open-policy-agent/opa@$(OPA_VERSION)"; \
		echo "OPA $(OPA_VERSION): built in $$(( $$(date +%s) - start )) s: $$("$(OPA_DIR)/opa" version | head -1)"; \
	else \
		echo "OPA $(OPA_VERSION): no Go toolchain here; the OPA tests will skip (and fail under CI=true)"; \
	fi
	@# axe-core for the pages' accessibility checks, pinned in tests/axe/package-lock.json.
	@if [ -f tests/axe/node_modules/axe-core/axe.min.js ]; then :; \
	elif command -v npm > /dev/null; then \
		npm ci --prefix tests/axe --no-audit --no-fund --silent && echo "axe-core: installed"; \
	else \
		echo "axe-core: no npm here; the accessibility checks will skip (and fail under CI=true)"; \
	fi

test: $(VENV)/.synced tools lint typecheck hadolint native-test
	$(BIN)/sluicegate rules test $${CI:+--require-opa}
	$(BIN)/pytest

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.synced
	$(BIN)/mypy
	$(BIN)/mypy clients/python/tests
	$(BIN)/mypy clients/permit/tests
	MYPYPATH=examples $(BIN)/mypy examples/langgraph/main.py
	MYPYPATH=examples $(BIN)/mypy examples/openai-agents/main.py

# The crate's own tests, formatting and lints (rustfmt and clippy when the toolchain has them).
native-test:
	cargo test --quiet --locked --manifest-path native/Cargo.toml
	@if cargo fmt --version > /dev/null 2>&1; then cargo fmt --check --manifest-path native/Cargo.toml; fi
	@if cargo clippy --version > /dev/null 2>&1; then \
		cargo clippy --quiet --locked --manifest-path native/Cargo.toml --all-targets -- -D warnings; fi

hadolint: $(VENV)/.synced
	$(BIN)/hadolint Dockerfile

format: $(VENV)/.synced
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.synced tools
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.cli_startup
	$(BIN)/python -m bench.crash_safety
	$(BIN)/python -m bench.pack_growth
	$(BIN)/python -m bench.review_wait --postgres auto
	$(BIN)/python -m bench.checkpoint_pause
	$(BIN)/python -m bench.canary_simulation
	$(BIN)/python -m bench.sampling_simulation
	@# In process beside tollgate's durable tower, when the peers harness is next to the project.
	@if [ -f ../shared/peers/compare.sh ]; then bash ../shared/peers/compare.sh "$(CURDIR)/$(VENV)"; \
	else echo "peers: ../shared/peers/compare.sh not found, in-process comparison not run"; fi

# Where a request's Python time goes, under load (py-spy; writes .bench/profile.svg).
profile: $(VENV)/.synced
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.profile_http

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache native/target
