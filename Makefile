# gws-bridge — `make test` and `make demo` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: test demo setup lint typecheck pytest bench clean interop-deps lock browser

test: setup lint typecheck pytest

demo: setup
	$(BIN)/gws-bridge demo

setup: $(VENV)/.installed redis-binary interop-deps browser

# The environment is exactly requirements/dev.lock: every package pinned and hashed, so this
# machine, CI and a fresh clone run the same versions (the Dockerfile installs run.lock, its
# runtime subset). pip checks the hashes and that the lock is complete; the project itself goes in
# last, editable, without dependencies, built by the locked setuptools.
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "gws-bridge needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# Re-resolve the locks after editing pyproject.toml (tests/unit/test_lock.py fails until then):
# one universal resolution for Python >= 3.11, keeping the pins that still fit; `make lock
# LOCK_FLAGS=--upgrade` moves every package to its newest allowed release. The build backend
# ([build-system] requires) is locked too.
LOCK_FLAGS ?=
BUILD_REQUIRES := $(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
COMPILE = $(BIN)/uv pip compile --quiet --universal --generate-hashes --custom-compile-command 'make lock' $(LOCK_FLAGS)

lock:
	@test -x $(BIN)/uv || $(MAKE) --no-print-directory $(VENV)/.installed
	$(BUILD_REQUIRES) | $(COMPILE) pyproject.toml - --extra dev -o requirements/dev.lock
	$(BUILD_REQUIRES) | $(COMPILE) pyproject.toml - --constraints requirements/dev.lock -o requirements/run.lock

# The tests start private redis-server processes; install Debian's when we can.
redis-binary:
	@command -v redis-server >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing redis-server (Debian package)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
		else \
			echo "redis-server is missing: install it (e.g. 'sudo apt-get install redis-server') and re-run"; \
			exit 1; \
		fi; \
	}

# tests/e2e/test_console_browser.py drives Debian's headless chromium over the DevTools protocol
# (no chromedriver needed); without it that test is skipped and says so.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium (Debian package)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "chromium is missing: the console's browser test will be skipped"; \
		fi; \
	}

# tests/interop runs the official CometD JavaScript client under Node: Debian's nodejs/npm when
# we can install them, then the pinned npm packages. Without Node those tests are skipped.
INTEROP := tests/interop/node

interop-deps: $(INTEROP)/node_modules/.installed

$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing nodejs and npm (Debian packages)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
		fi; \
	}
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(INTEROP) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "node/npm are missing: the CometD JavaScript interop tests will be skipped"; \
	fi

lint: setup
	$(BIN)/ruff check bridge connectors simulator tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
