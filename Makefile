# Every target installs what is missing first (idempotent), so a fresh machine needs only `make test` or `make demo`.
SHELL := /bin/bash
export MLAGENT_HOME ?= $(CURDIR)/.mlagent

.PHONY: setup test demo typecheck bench dev-up dev-down clean

setup:
	@bash scripts/setup.sh

typecheck: setup
	npx tsc --noEmit -p .

test: setup
	npx tsc --noEmit -p .
	bash scripts/run-tests.sh

demo: setup
	npx mlagent demo

bench: setup
	npx mlagent bench sandbox

dev-up: setup
	npx mlagent dev up

dev-down:
	npx mlagent dev down
