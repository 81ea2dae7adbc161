# Henan e-Services. `make run` and `make test` do all set-up on a fresh Debian/Ubuntu machine with Python 3.11+.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3
HOST ?= 127.0.0.1
PORT ?= 8000
# The TEST ONLY PKI (certomancer, portal/pki/): OCSP, CRLs and the timestamp authority on loopback for `make run`.
PKI_PORT ?= 8009
# Debian packages (docs/architecture.md#platform-notes): WeasyPrint's Pango and HarfBuzz subsetter, CJK fonts
# (WenQuanYi Zen Hei for the common characters; Noto CJK as the fallback for rare ones such as U+210C1, never tofu in
# a name), gettext for the translations; ICU with pkg-config and a C++ compiler to build PyICU (the UTS #39 confusable
# skeletons of usernames, accounts/usernames.py); Chromium for the browser tests, pdftoppm + zbarimg (QR decoding),
# pdfsig/pdfinfo + certutil (an NSS trust store for pdfsig) and nginx (the reference proxy) for the tests only.
RUN_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-zenhei fonts-noto-cjk gettext python3-venv \
	libicu-dev pkg-config g++
TEST_DEBS := $(RUN_DEBS) chromium poppler-utils zbar-tools libnss3-tools nginx
DEV_ENV := DEBUG=1 STAFF_MFA_REQUIRED=0 SITE_URL=http://$(HOST):$(PORT) TEST_PKI_PORT=$(PKI_PORT) \
  TSA_URL=http://127.0.0.1:$(PKI_PORT)/henan-test/tsa/tsa

.PHONY: run test test-services setup sysdeps-run sysdeps-test messages migrate demo lint scan bench load cluster-test clean

run: sysdeps-run setup migrate demo
	@echo ""
	@echo "Henan e-Services is starting at http://$(HOST):$(PORT)/  (staff: http://$(HOST):$(PORT)/admin/)"
	@$(DEV_ENV) $(PY) manage.py load_demo --print-only
	@echo "SMS and e-mails are printed by the worker below (and kept in the outbox). Ctrl-C stops everything."
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/certomancer --config var/pki/certomancer.yml animate --port $(PKI_PORT) --no-web-ui --no-time-override \
	    > var/pki/animate.log 2>&1 & \
	  $(DEV_ENV) $(VENV)/bin/celery -A portal worker -Q pdf,notify,default --loglevel=INFO --concurrency=2 --hostname=worker@%h & \
	  $(DEV_ENV) $(VENV)/bin/celery -A portal beat --loglevel=INFO & \
	  $(DEV_ENV) $(PY) manage.py runserver --noreload $(HOST):$(PORT)

test: sysdeps-test setup
	$(VENV)/bin/pytest -p xdist -n 2 --dist loadfile $(PYTEST_ARGS)

# The same suite on PostgreSQL and Redis, with the services-tier tests (.ci/run sets DATABASE_URL and REDIS_URL).
test-services: sysdeps-test setup
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { echo "set DATABASE_URL and REDIS_URL (see .ci/run)"; exit 2; }
	$(VENV)/bin/pytest -p xdist -n 2 --dist loadfile $(PYTEST_ARGS)

setup: $(VENV)/.installed messages var/secret_key var/signing/roots.pem

$(VENV)/.installed: requirements.txt build-constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(PY) -m pip install -q --disable-pip-version-check --build-constraint build-constraints.txt -r requirements.txt
	touch $@

messages: $(VENV)/.installed
	@if ls locale/*/LC_MESSAGES/django.po >/dev/null 2>&1; then DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v0; fi

var/secret_key:
	@mkdir -p var && umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

# The test PKI in var/pki/ and its first signing certificate in var/signing/ (docs/deploy.md#signing-keys-and-the-pki).
var/signing/roots.pem: $(VENV)/.installed portal/pki/certomancer.yml
	@DEBUG=1 TEST_PKI_PORT=$(PKI_PORT) $(PY) manage.py make_signing_key && touch $@

migrate: setup
	$(DEV_ENV) $(PY) manage.py migrate --noinput -v0

demo: migrate
	@$(DEV_ENV) $(PY) manage.py load_demo > /dev/null

# Benchmarks (figures, never timed assertions): PostgreSQL and Redis, one table in bench/results/results.{md,json}.
# The million-row data sets are seeded once (bench/seed.py; `bench/seed.py all --remove` deletes them).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_ENV := DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) DJANGO_SETTINGS_MODULE=bench.settings

bench: sysdeps-test setup
	$(call ensure_debs,wrk)
	@psql "$(dir $(BENCH_DATABASE_URL))postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_DATABASE_URL))'" | grep -q 1 \
	  || psql "$(dir $(BENCH_DATABASE_URL))postgres" -qc "CREATE DATABASE $(notdir $(BENCH_DATABASE_URL))"
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v0
	$(BENCH_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(BENCH_ENV) $(PY) bench/seed.py all --count 1000000 --ensure
	$(BENCH_ENV) $(PY) bench/pdf_issue.py
	$(BENCH_ENV) $(PY) bench/verify_load.py
	$(BENCH_ENV) $(PY) bench/sweep.py
	$(BENCH_ENV) $(PY) bench/pages.py
	$(BENCH_ENV) $(PY) bench/register_import.py
	@cat bench/results/results.md

# Load test: 2 minutes of 100 citizens, 10 officers and 50 verifiers (locust, loopback only) against gunicorn, a
# Celery worker and beat, PostgreSQL and Redis, then the consistency checks. Recreates its own database and Redis db.
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_load
LOAD_REDIS_URL ?= redis://127.0.0.1:6379/13

load: sysdeps-run setup
	LOAD_DATABASE_URL=$(LOAD_DATABASE_URL) LOAD_REDIS_URL=$(LOAD_REDIS_URL) $(PY) bench/load/run.py

# Scale-out rehearsal (docs/deploy.md#scale-out-rehearsal-make-cluster-test), loopback only, at most
# CLUSTER_TIME_LIMIT (480) seconds: nginx in front of two gunicorn nodes, two Celery workers and beat, an S3 server
# (moto), PostgreSQL and Redis; `make load`'s people for 2 minutes, web node 1 and worker 1 killed with SIGKILL
# midway, then `make load`'s checks and the failover's. Recreates its own database (keeping a migrated template
# beside it) and Redis db. Not part of `make test` (minutes of both cores).
CLUSTER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_cluster
CLUSTER_REDIS_URL ?= redis://127.0.0.1:6379/12

cluster-test: sysdeps-test setup
	CLUSTER_DATABASE_URL=$(CLUSTER_DATABASE_URL) CLUSTER_REDIS_URL=$(CLUSTER_REDIS_URL) $(PY) bench/cluster/run.py

# The shape of the code (CONTRIBUTING.md): ruff's lint rules and its formatter, migrations in step with the models,
# the import contracts of .importlinter (docs/architecture.md#layers) and mypy with django-stubs (pyproject.toml).
# .pre-commit-config.yaml runs the same commands on commit.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	PYTHONPATH=. $(VENV)/bin/lint-imports

# Security scanners (.ci/run): Django's deployment checklist with production settings and a throw-away secret,
# bandit on our code, ruff, and pip-audit on requirements.txt (.ci/pip_audit.py: it says NOT RUN and fails when no
# vulnerability service is reachable, unless PIP_AUDIT_UNREACHABLE=warn). Exceptions, with reasons: pyproject.toml.
# SCAN_ENV is a complete production configuration (portal/checks.py refuses an incomplete one): the public https://
# address, an SMS gateway, a mail relay, Redis, a TSA and the signing files `make setup` creates. Nothing is contacted.
SCAN_ENV := DEBUG=0 DJANGO_HTTPS=1 ALLOWED_HOSTS=portal.example.test SITE_URL=https://portal.example.test \
  SMS_BACKEND=https://sms.example.test/send EMAIL_URL=submission://mail.example.test REDIS_URL=redis://127.0.0.1:6379/0 \
  SIGNING_KEY_FILE=$(CURDIR)/var/signing/key.pem SIGNING_CERT_FILE=$(CURDIR)/var/signing/cert.pem \
  SIGNING_CHAIN_FILE=$(CURDIR)/var/signing/chain.pem SIGNING_TRUST_ROOTS_FILE=$(CURDIR)/var/signing/roots.pem \
  SIGNING_HISTORY_FILE=$(CURDIR)/var/signing/history.pem TSA_URL=https://tsa.example.test/tsa

scan: setup
	@echo "== scan: manage.py check --deploy --fail-level WARNING (production settings)"
	$(SCAN_ENV) SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" $(PY) manage.py check --deploy --fail-level WARNING
	@echo "== scan: bandit"
	$(VENV)/bin/bandit -c pyproject.toml -r . -q
	@echo "== scan: ruff"
	$(VENV)/bin/ruff check .
	@echo "== scan: pip-audit"
	$(PY) .ci/pip_audit.py

# Installs the Debian packages the portal needs, or says the one command to run when we are not root.
define ensure_debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing system packages. Run, then try again:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
endef

sysdeps-run:
	$(call ensure_debs,$(RUN_DEBS))

sysdeps-test:
	$(call ensure_debs,$(TEST_DEBS))

clean:
	rm -rf var/broker var/cache var/celerybeat-schedule* tests/artifacts
