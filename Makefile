# Mirrors .ci/run, step by step.
.PHONY: ci test fmt clippy doc tour backends package bench

ci:
	bash .ci/run

test:
	cargo test --workspace

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --all-features -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

backends:
	for be in select poll epoll; do cargo test -p iolib-iomux --no-default-features --features $$be || exit 1; done

package:
	cargo package --workspace --exclude bench

tour:
	cargo run --release --example tour

bench:
	cargo run --release -p bench
