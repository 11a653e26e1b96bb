# The two commands the README promises, and the editing loop. Each installs what it needs first.
.PHONY: run test watch
run:
	bash .ci/run-app
test:
	bash .ci/test
watch:
	bash .ci/install-tools watch
	PATH="$$HOME/.cargo/bin:$$PATH" cargo leptos watch
