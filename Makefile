# The two commands the README promises. Each installs what it needs first.
.PHONY: run test
run:
	bash .ci/run-app
test:
	bash .ci/test
