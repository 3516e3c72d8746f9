#!/usr/bin/env bash
# The project's test command, as root: `sudo scripts/test.sh [go test args]`.
# It installs what the end-to-end tests need (scripts/setup-deps.sh), then checks
# that gofmt has nothing to change, runs go vet for Linux, Windows, macOS and FreeBSD (test files included), staticcheck,
# go test on every package, and every fuzz target for a short bounded time
# (scripts/fuzz.sh, $CIMSESS_FUZZTIME each, 2s by default; 0 skips it). Extra
# arguments go to go test; an argument that names a package (./… or
# github.com/…) replaces the default ./... and skips the fuzzing. Screenshots
# and other artefacts the tests keep go to $CIMSESS_TEST_ARTEFACTS
# (test-artefacts/ by default).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

if [ "$(id -u)" = 0 ]; then
	scripts/setup-deps.sh
	# Tests in parallel packages each watch files (events, agents, nats,
	# chromium); the default of 128 inotify instances per user runs out.
	f=/proc/sys/fs/inotify/max_user_instances
	if [ -w "$f" ] && [ "$(cat "$f")" -lt 1024 ]; then
		echo 1024 >"$f" && echo "test.sh: raised $f to 1024" || true
	fi
else
	echo "test.sh: not root: skipping setup; tests that need root or servers will skip" >&2
fi

echo "== gofmt -l ."
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "test.sh: not gofmt-formatted (run gofmt -w on them):" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet ./..."
go vet ./...

# vet, not only build, for the other systems: test files and build tags too.
for goos in windows darwin freebsd; do
	echo "== GOOS=$goos go vet ./..."
	GOOS=$goos go vet ./...
done
# Built for the two systems the build tags name beside those (the BSD
# provider and the Linux provider's Unix files serve them too).
for goos in netbsd openbsd; do
	echo "== GOOS=$goos go build ./..."
	GOOS=$goos go build ./...
done

echo "== staticcheck ./..."
go tool staticcheck ./...

pkgs=()
for a in "$@"; do
	case "$a" in
	./* | github.com/*) pkgs+=("$a") ;;
	esac
done
[ "${#pkgs[@]}" -gt 0 ] || set -- ./... "$@"

# The server's load test (64 clients) runs for 5 s here; set
# CIMSESS_LOAD_DURATION=30s for the full run the benchmarks quote.
export CIMSESS_LOAD="${CIMSESS_LOAD:-1}" CIMSESS_LOAD_DURATION="${CIMSESS_LOAD_DURATION:-5s}"
export CIMSESS_TEST_ARTEFACTS="${CIMSESS_TEST_ARTEFACTS:-$PWD/test-artefacts}"
mkdir -p "$CIMSESS_TEST_ARTEFACTS"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== go test -count=1 -timeout 20m -v $*"
set +e
go test -count=1 -timeout 20m -v "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

passed=$(grep -cE '^ *--- PASS' "$log" || true)
failed=$(grep -cE '^ *--- FAIL' "$log" || true)
skipped=$(grep -cE '^ *--- SKIP' "$log" || true)
echo "== packages"
grep -E '^(ok|FAIL|\?) ' "$log" || true
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # a build failure or a panic outside a test
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
echo "artefacts: $CIMSESS_TEST_ARTEFACTS"

fuzztime=${CIMSESS_FUZZTIME:-2s}
if [ "${#pkgs[@]}" -eq 0 ] && [ "$fuzztime" != 0 ]; then
	echo "== scripts/fuzz.sh $fuzztime"
	scripts/fuzz.sh "$fuzztime" || status=1
fi
exit "$status"
