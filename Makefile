# xiaokang — two commands: `make demo` (set up, load the demo, assess, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SERVE ?= 1
SCALE ?= 1
STAMP := $(VENV)/.installed

.PHONY: demo test install assets clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The Spark extra (pyspark, ~300 MB) only for the tests: the backend-equivalence test runs the rules on
# Spark in local mode when Java is present.
SPARK_STAMP := $(VENV)/.spark-installed
$(SPARK_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $(SPARK_STAMP)

# ECharts comes from the npm registry (pinned in frontend/package-lock.json), never from a CDN.
assets: frontend/node_modules/.package-lock.json
	mkdir -p src/xiaokang/static/vendor/echarts
	cp frontend/node_modules/echarts/dist/echarts.min.js src/xiaokang/static/vendor/echarts/

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

demo: install assets
	$(BIN)/xiaokang demo --scale $(SCALE) $(if $(filter 0,$(SERVE)),--no-serve,)

test: install $(SPARK_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var frontend/node_modules src/xiaokang/static/vendor
