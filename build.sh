#!/usr/bin/env bash
# build.sh          builds bin/spate and every example into bin/, static (CGO_ENABLED=0)
# build.sh test     lint (gofmt, go vet, staticcheck) and the whole test suite
# build.sh bench    the Go benchmarks (not part of the test suite)
# build.sh bench-flink [flags]  Spate beside Flink on the same workloads (integration/bench; not part of the test suite)
# build.sh gen      regenerates the committed generated code (Thrift, protocol buffers)
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
bench-flink)
	shift
	scripts/bench-vs-flink.sh "$@"
	;;
gen)
	# Regenerates the committed generated code; a build never needs the generators.
	# Thrift: Debian's thrift-compiler 0.17.0 (recorded in worker/transport/spate.thrift);
	# its output builds against github.com/apache/thrift v0.17.0, v0.22.0 and v0.25.0.
	# gofmt -w because thrift's Go output is not gofmt-clean and lint checks every file.
	THRIFT_VERSION=0.17.0
	if ! command -v thrift >/dev/null 2>&1; then
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update
		$sudo apt-get install -y thrift-compiler
	fi
	have=$(thrift --version | awk '{print $3}')
	if [ "$have" != "$THRIFT_VERSION" ]; then
		echo "gen: thrift $have found, want $THRIFT_VERSION (Debian's thrift-compiler)" >&2
		exit 1
	fi
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	thrift --gen go:package_prefix=github.com/spate-io/spate/,skip_remote -out "$tmp" worker/transport/spate.thrift
	gofmt -w "$tmp"
	rm -rf worker/transport/gen/wire
	mkdir -p worker/transport/gen
	mv "$tmp/worker/transport/gen/wire" worker/transport/gen/wire

	# Protocol buffers of yarn/proto: Debian's protobuf-compiler (protoc 3.21.12)
	# and protoc-gen-go v1.31.0, the google.golang.org/protobuf of go.mod, so the
	# generated code never needs a newer runtime than the one linked.
	PROTOC_VERSION=3.21.12
	PROTOC_GEN_GO_VERSION=v1.31.0
	if ! command -v protoc >/dev/null 2>&1; then
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update
		$sudo apt-get install -y protobuf-compiler
	fi
	have=$(protoc --version | awk '{print $2}')
	if [ "$have" != "$PROTOC_VERSION" ]; then
		echo "gen: protoc $have found, want $PROTOC_VERSION (Debian's protobuf-compiler)" >&2
		exit 1
	fi
	GOBIN="$tmp/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
	(cd yarn/proto && PATH="$tmp/bin:$PATH" protoc -I. --go_out=. --go_opt=paths=source_relative ./*.proto)
	;;
*)
	echo "usage: ./build.sh [build|test|bench [REGEXP]|bench-flink [FLAGS]|gen]" >&2
	exit 2
	;;
esac
