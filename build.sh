#!/usr/bin/env bash
# build.sh          builds bin/spate and every example into bin/, static (CGO_ENABLED=0)
# build.sh test     lint (gofmt, go vet, staticcheck) and the whole test suite
# build.sh bench    the Go benchmarks (not part of the test suite)
set -euo pipefail
cd "$(dirname "$0")"

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
VERSION=$(git describe --always --dirty 2>/dev/null || echo dev)

build() {
	mkdir -p bin
	CGO_ENABLED=0 go build -ldflags "-X main.version=${VERSION}" -o bin/spate ./cmd/spate
	for dir in examples/*/; do
		name=$(basename "$dir")
		CGO_ENABLED=0 go build -o "bin/${name}" "./examples/${name}"
	done
}

lint() {
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$unformatted" ]; then
		echo "gofmt: these files need formatting (run gofmt -w):" >&2
		echo "$unformatted" >&2
		exit 1
	fi
	go vet ./...
	go run "$STATICCHECK" ./...
}

case "${1:-build}" in
build)
	build
	;;
test)
	build
	lint
	# -race on the runtime and on the sdk tests that drive it (checkpoints, recovery),
	# where goroutines meet; the rest without it to keep CI short.
	go test -count=1 -race ./worker/... ./master/... ./state/... ./sdk/ ./sdk/connectors/...
	go test -count=1 ./...
	;;
bench)
	build
	go test -run '^$' -bench "${2:-.}" -benchmem ./...
	;;
*)
	echo "usage: ./build.sh [build|test|bench [REGEXP]]" >&2
	exit 2
	;;
esac
