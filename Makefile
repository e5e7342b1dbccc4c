# Two commands a fresh machine needs: `make run` (main job) and `make test` (test suite).
# `make run` runs every flow once with the `quick` profile of flows.yaml (small training budgets:
# the whole chain in under 20 minutes on 2 cores, set-up included); `make run-full` uses the
# declared full budgets (30 CPU minutes per RNN model).
# Both create .venv, install nlpkit with every extra, torch as torch==2.13.0 (a looser pin
# downloads GBs of CUDA wheels) and check for Java (KoNLPy needs a JDK).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED_DATA ?= $(abspath ../shared/data)

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_LOGGING_LEVEL ?= WARNING
# Prefect's local (ephemeral) server waits 20 s by default; a busy 2-core machine needs more.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180

# Offline development: when ../shared/data is present, read sources from it unless the
# environment already names them (online users get the real download URLs).
ifneq ($(wildcard $(SHARED_DATA)/imdb/aclImdb_v1.tar.gz),)
export NLPKIT_IMDB_SOURCE ?= $(SHARED_DATA)/imdb/aclImdb_v1.tar.gz
export NLTK_DATA ?= $(SHARED_DATA)/nltk_data
export NLPKIT_NSMC_SOURCE ?= $(SHARED_DATA)/nsmc
export NLPKIT_KOREAN_NEWS_SOURCE ?= $(SHARED_DATA)/korean_news/articles.jsonl.gz
export NLPKIT_KOREAN_PRESS_SOURCE ?= $(SHARED_DATA)/korean_press_tweets/korean_newspapers_twitter.csv
export NLPKIT_LM_SOURCE ?= $(SHARED_DATA)/lm
export NLPKIT_HATE_SPEECH_SOURCE ?= $(SHARED_DATA)/korean_hate_speech
export NLPKIT_INTENT_3I4K_SOURCE ?= $(SHARED_DATA)/korean_intent_3i4k
export NLPKIT_KORSTS_SOURCE ?= $(SHARED_DATA)/kornlu
endif
# `make run` offline: the 60 saved real (English) news pages stand in for the unreachable outlets
# (added as the news source `local_pages`; tests declare their own sources).
# The real Naver article pages (korean_news_html) come along, so `articles` holds dated Korean articles
# that topics-news classifies (several folders: separated by ':', one `local_pages*` source each).
NEWS_PAGES := $(subst $(eval) ,:,$(wildcard $(SHARED_DATA)/article_extraction_dev/html $(SHARED_DATA)/korean_news_html))

.PHONY: setup run run-full test check-python check-java clean java-helper browser ui

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: Python 3.11+ is required ($(PYTHON) is $$($(PYTHON) --version 2>&1)); set PYTHON=python3.11" >&2; exit 1; }

check-java:
	@command -v java >/dev/null 2>&1 || \
	  { echo "error: Java not found. KoNLPy needs a JDK 11+ (e.g. 'apt-get install openjdk-17-jdk-headless'), then run again." >&2; exit 1; }
	@java -version >/dev/null 2>&1 || { echo "error: 'java' is on PATH but does not run; check JAVA_HOME" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all,dev]'
	@touch $@

setup: check-python check-java $(VENV)/.installed

RUN_ENV = $(if $(NEWS_PAGES),NLPKIT_NEWS_DIRECTORY=$${NLPKIT_NEWS_DIRECTORY:-$(NEWS_PAGES)})

run: setup
	$(RUN_ENV) $(VENV)/bin/nlpkit flows run all --profile quick

run-full: setup
	$(RUN_ENV) $(VENV)/bin/nlpkit flows run all

test: setup
	$(PY) -m pytest -q

# The browser tests (tests/ui) drive Debian's chromium with chromedriver (no browser download);
# installed once, quietly, only when missing (needs root or sudo; otherwise those tests skip with the reason).
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && \
	    fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing chromium, chromium-driver and fonts-noto-cjk (browser tests) ..."; \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null || \
	  echo "warning: could not install chromium; the browser tests will skip" >&2; \
	else echo "warning: no apt-get: install chromium + chromedriver to run the browser tests" >&2; fi

# The local web app over the store (read-only): http://127.0.0.1:8501/
ui: setup
	$(VENV)/bin/nlpkit ui

# Compile nlpkit's Java batch helper for the KoNLPy tokenizers now (otherwise on first use).
java-helper: setup
	$(PY) -c 'from nlpkit.tokenize.jvm import konlpy_classpath; from nlpkit.tokenize.java_helper import build_helper; print(build_helper(konlpy_classpath()))'

clean:
	rm -rf $(VENV) .prefect .pytest_cache
