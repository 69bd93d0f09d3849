# Kustodian: `make run` and `make test` each work alone on a fresh clone (as root; the needed
# Debian packages are installed when missing).
SHELL := /bin/bash
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

DEB_PACKAGES := g++ cmake make pkg-config ccache libcpp-httplib-dev libssl-dev libyaml-cpp-dev \
  nlohmann-json3-dev libabsl-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev \
  prometheus clang-format clang-tidy

.PHONY: all deps build test run lint format bench clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
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

clean:
	rm -rf $(BUILD_DIR)
