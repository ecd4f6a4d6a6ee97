# The two commands: `make run` (demo site on http://127.0.0.1:5000) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app market

.PHONY: run test install install-test lock translations messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# constraints.txt pins every installed package to the version the suite was run against.
# The site needs only the package itself; the test and benchmark extras come with `make test`.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,bench]'
	touch $@

lock: $(VENV)/.installed-test
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

CATALOGUE := market/translations/en/LC_MESSAGES/messages

translations: $(CATALOGUE).mo

$(CATALOGUE).mo: $(CATALOGUE).po $(VENV)/.installed
	$(BIN)/pybabel compile -d market/translations >/dev/null

messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F market/translations/babel.cfg -k _l --ignore-dirs='.*' --no-location -o market/translations/messages.pot .
	$(BIN)/pybabel update -i market/translations/messages.pot -d market/translations -l en --no-fuzzy-matching

install: $(VENV)/.installed translations

install-test: $(VENV)/.installed-test translations

# `prepare` migrates, seeds and reindexes, each only when not yet done, so a second start rebuilds nothing.
# Jobs (imports, pairing, mail) run inside the web workers here: demo mode needs no Redis (see docs/jobs.md).
run: install
	MARKET_DEMO_MODE=1 $(FLASK) prepare --demo --pairs-days 365
	# Worker processes, not threads: requests never share one interpreter's C extensions (SQLAlchemy, Babel) at once.
	# The demo's indexes are small: the workers load them on first use, so the site answers sooner than with the warm-up.
	MARKET_DEMO_MODE=1 MARKET_WARM_FOR_WORKERS=0 BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} \
	  $(BIN)/gunicorn -c python:market.gunicorn_conf --workers 2 --threads 1 \
	  --timeout 120 --no-control-socket --bind 127.0.0.1:$(PORT) 'market:create_app()'

test: install-test
	$(BIN)/ruff check market tests
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache
