# Conveniences on top of plain cargo; the README's two commands need nothing but cargo.

export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/hexgate/target")

# Run the service on the embedded default (SQLite file under ./data).
run:
    cargo run -p hexgate-server --bin hexgate

# Every test, as CI runs them (needs the local PostgreSQL).
test:
    cargo test --workspace
    HEXGATE_TEST_DATABASE=postgres HEXGATE_TEST_REDIS=1 cargo test -p hexgate-server --test api

# Formatting, lints and the dependency rule.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    ../shared/tools/check-architecture

fmt:
    cargo fmt --all

# Database migrations: just migrate up | down | status
migrate action="up":
    cargo run -p hexgate-server --bin hexgate -- migrate {{action}}

# Print the OpenAPI document.
openapi:
    cargo run -q -p hexgate-server --bin hexgate -- openapi

# Every goal of docs/benchmarks.md in one run and one table, hexgate (dist profile) vs the FastAPI peer (DURATION=5s SHORT=1 for a short run).
bench:
    bash bench/run.sh

# GET /users/me by API key vs by access token, side by side, on a release build (see docs/benchmarks.md).
bench-api-keys:
    bash bench/api_keys.sh

# Uploads and chat fan-out on a release build (see docs/benchmarks.md).
bench-files-chat:
    bash bench/files_chat.sh

# Memory soak on a release build, SQLite and PostgreSQL (see bench/memory_soak.sh; SCALE=0.05 for a quick run).
bench-memory:
    bash bench/memory_soak.sh

# schemathesis against the OpenAPI document (FUZZ_API_EXAMPLES=200 for longer; see docs/fuzzing.md).
fuzz-api:
    scripts/fuzz-api

# cargo fuzz on the parsers (FUZZ_SECONDS=3600 for longer; see docs/fuzzing.md).
fuzz-parsers *targets:
    scripts/fuzz-parsers {{targets}}

# What metrics and trace export cost on /users/me, release build (see docs/benchmarks.md).
bench-observability:
    bash bench/observability.sh
# GET /users/me with EdDSA vs HS256 access tokens, on a release build (see docs/benchmarks.md).
bench-tokens:
    bash bench/tokens.sh
