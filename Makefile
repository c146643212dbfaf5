# Everything runs from the project's own virtual environment, built from pyproject.toml + constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(abspath ../shared/data)
HOST ?= 127.0.0.1
PORT ?= 8000
# Admin URL of the PostgreSQL server the test suite runs against a second time (scratch databases).
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install install-test store serve serve-prod stop-prod test lint test-sqlite test-postgres fuzz bench openapi lock \
	vendor clean

# What serving needs (make serve); the test tools come on top (make test).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

store: install  ## Build (or update) the SQLite store from DATA_DIR.
	EXPORTS_DATA_DIR=$(DATA_DIR) $(BIN)/flask --app wsgi data build

serve: store  ## Serve the API on the real data at http://$(HOST):$(PORT).
	EXPORTS_DATA_DIR=$(DATA_DIR) $(BIN)/gunicorn --bind $(HOST):$(PORT) wsgi:app

$(VENV)/.installed-deploy: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[deploy]'
	touch $@

serve-prod: $(VENV)/.installed-deploy  ## The production topology on loopback: nginx edge at :8080, API hosts at :8001, :8002.
	EXPORTS_DATA_DIR=$(DATA_DIR) $(BIN)/python deploy/topology.py start

stop-prod: $(VENV)/.installed-deploy  ## Stop what serve-prod started.
	$(BIN)/python deploy/topology.py stop

test: lint test-sqlite test-postgres  ## Lint, then the whole suite on SQLite, then on PostgreSQL.

lint: install-test
	$(BIN)/ruff check .

test-sqlite: install-test
	EXPORTS_DATA_DIR=$(DATA_DIR) $(BIN)/pytest

test-postgres: install-test
	@$(BIN)/python -c "import sqlalchemy as sa; sa.create_engine('$(POSTGRES_URL)').connect().close()" \
		|| { echo "PostgreSQL is not reachable at $(POSTGRES_URL) (set POSTGRES_URL)"; exit 1; }
	EXPORTS_DATA_DIR=$(DATA_DIR) EXPORTS_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest

fuzz: install-test  ## A longer schemathesis run (new random examples each time).
	EXPORTS_DATA_DIR=$(DATA_DIR) FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} FUZZ_RANDOM=1 $(BIN)/pytest tests/test_fuzz.py

bench: install-test  ## Benchmarks (need wrk: apt-get install wrk); tables on stdout, details in bench/results/.
	$(BIN)/pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python bench/http_bench.py
	$(BIN)/python bench/http_bench.py --database-url $(POSTGRES_URL)
	$(BIN)/python bench/load_bench.py

openapi: install  ## Regenerate the operations' examples (api/examples.json, from the fixtures), then openapi.yaml.
	$(BIN)/python tests/examples.py
	$(BIN)/flask --app wsgi openapi write --format=yaml openapi.yaml

lock: install-test  ## Re-pin constraints.txt from the current environment.
	$(BIN)/pip freeze --exclude-editable > constraints.txt

# The explorer's vendored browser libraries (api/static/vendor): each pinned package fetched with `npm pack` (which
# checks the registry's integrity hash), its listed files copied, then SHA256SUMS rewritten (a test checks it).
VENDOR := api/static/vendor
vendor:  ## Re-fetch the versions pinned in api/static/vendor/packages.txt (maintainers only; needs npm).
	rm -rf build/vendor && mkdir -p build/vendor
	grep -v '^#' $(VENDOR)/packages.txt | while read -r spec files; do \
		name=$${spec%@*}; \
		tarball=$$(cd build/vendor && npm pack --silent "$$spec") || exit 1; \
		mkdir -p build/vendor/$$name && tar -xzf build/vendor/$$tarball -C build/vendor/$$name || exit 1; \
		rm -rf $(VENDOR)/$$name && mkdir -p $(VENDOR)/$$name; \
		for file in $$files; do cp build/vendor/$$name/package/$$file $(VENDOR)/$$name/ || exit 1; done; \
	done
	cd $(VENDOR) && sha256sum */* > SHA256SUMS

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
