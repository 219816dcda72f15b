# Two commands on a fresh machine (Python 3.11+): `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: serve test test-tools test-fast lint format bench install clean image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime

## Run the server with its embedded default (SQLite in the per-user data directory).
serve: $(VENV)/.runtime
	$(BIN)/sagemaker-images serve $(ARGS)

## Install what the tests need from the system (apt), then lint and type-check while every
## tier of the test suite runs (a minute saved); either failing fails. PostgreSQL is a
## private cluster of the run.
test: test-tools $(VENV)/.test
	@$(MAKE) --no-print-directory lint > .lint.log 2>&1 & lint=$$!; \
	$(BIN)/pytest $(ARGS); tests=$$?; \
	wait $$lint; linted=$$?; \
	cat .lint.log; rm -f .lint.log; \
	if [ $$linted -ne 0 ]; then echo "make test: lint failed (above)"; fi; \
	[ $$tests -eq 0 ] && [ $$linted -eq 0 ]

## PostgreSQL's server, docker-registry, skopeo, wrk, chromium, podman, buildah, runc,
## mmdebstrap: installed with apt if missing.
test-tools:
	$(PYTHON) scripts/test_tools.py

## The fast tier alone: unit, store and in-process tests (seconds, no server processes).
test-fast: test-tools $(VENV)/.test
	$(BIN)/pytest tests/unit tests/store tests/inprocess $(ARGS)

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

format: $(VENV)/.test
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

## Load benchmark: prints requests/s and latency beside a bare ASGI app.
bench: $(VENV)/.test
	$(BIN)/python benchmarks/load.py $(ARGS)

## The container image (Containerfile), with docker where its engine answers, else podman
## (or buildah): `make image IMAGE=registry.example/sagemaker-images:0.1.0`.
IMAGE ?= sagemaker-images:latest
ENGINE ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v podman >/dev/null; then echo podman; \
	elif command -v buildah >/dev/null; then echo buildah; fi)
# Passed through to the engine's build command, e.g. --build-arg BASE=...
IMAGE_ARGS ?=
# The CA bundle pip trusts here (a TLS-intercepting proxy's): the build's pip trusts it
# too, given as a build secret, never part of the image.
CA_BUNDLE ?= $(wildcard $(or $(PIP_CERT),$(SSL_CERT_FILE)))
comma := ,
image:
	@test -n "$(ENGINE)" || { echo "make image needs docker, podman or buildah" >&2; exit 1; }
	$(ENGINE) build $(if $(filter docker,$(ENGINE)),,--format docker --layers) \
		--file Containerfile --tag $(IMAGE) \
		--build-arg VERSION=$$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml) \
		--build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		$(if $(CA_BUNDLE),--secret id=ca$(comma)src=$(CA_BUNDLE)) $(IMAGE_ARGS) .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache src/*.egg-info
