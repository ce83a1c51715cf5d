# syntax=docker/dockerfile:1
# The Rust toolchain, for the build stage only (bookworm's own cargo is too old for PyO3).
FROM rust:1.95-slim-bookworm AS rust

# Build stage: install the locked dependencies and the project into a virtual environment,
# building the compiled core (native/) with cargo; the toolchain stays in this stage.
FROM python:3.11-slim-bookworm AS build
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$PATH
COPY --from=rust /usr/local/rustup /usr/local/rustup
COPY --from=rust /usr/local/cargo /usr/local/cargo
# The linker Rust needs; this stage is thrown away, so the packages are the release's current ones.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN pip install "uv==0.13.8"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
# The clients are dev dependencies (the tests use them as agents and targets do); uv resolves
# their paths.
COPY clients/python ./clients/python
COPY clients/permit ./clients/permit
COPY native ./native
RUN uv sync --frozen --no-dev --no-install-project
COPY policy ./policy
COPY service ./service
COPY rules ./rules
RUN uv sync --frozen --no-dev --no-editable

# Runtime stage: the virtual environment only, run as an unprivileged user.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    SLUICEGATE_DATABASE_URL=sqlite:////data/sluicegate.db
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home sluicegate
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
ENTRYPOINT ["sluicegate"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
