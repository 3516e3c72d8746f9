#!/usr/bin/env bash
# bench-builds.sh — time the command line of two revisions of this
# repository against each other on the same utmp file, whole process, in
# turn, so that a change of a few per cent shows through a shared
# machine's noise: the median of each and the median of the pairs' ratios
# (each run of the second against the run of the first beside it).
#
# Usage: scripts/bench-builds.sh OLD NEW [RUNS]
#   OLD, NEW  git revisions (NEW may be "." for the working tree)
#   RUNS      runs of each (default 300)
# Environment: RECORDS (the utmp file's records, default 10000), ARGS
# (what cimsess is run with, F standing for the file; default
# "enum Win32_LogonSession --utmp F --output csv").
#
# Each run is timed by bash's own clock ($EPOCHREALTIME) around the
# binary started directly. Both builds' outputs are compared first: a
# change that alters the answer is not a speed-up.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
OLD=$1 NEW=$2 RUNS=${3:-300}
RECORDS=${RECORDS:-10000}
ARGS=${ARGS:-"enum Win32_LogonSession --utmp F --output csv"}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build REV NAME: the static command line of revision REV as $work/NAME
build() {
	local src=$work/src-$2
	if [ "$1" = . ]; then
		src=.
	else
		mkdir -p "$src"
		git archive "$1" | tar -x -C "$src"
	fi
	(cd "$src" && CGO_ENABLED=0 go build -o "$work/$2" ./cmd/cimsess)
}
build "$OLD" old
build "$NEW" new
go run ./sysfile/utmp/internal/genutmp -out "$work/utmp" -n "$RECORDS"

args=()
for w in $ARGS; do # the word F is the file
	[ "$w" = F ] && w=$work/utmp
	args+=("$w")
done
"$work/old" "${args[@]}" >"$work/out.old" 2>/dev/null || true
"$work/new" "${args[@]}" >"$work/out.new" 2>/dev/null || true
if ! cmp -s "$work/out.old" "$work/out.new"; then
	echo "warning: the two builds' outputs differ" >&2
fi

# run_us BIN: one run's wall time in microseconds
run_us() {
	local start end
	start=${EPOCHREALTIME/[.,]/}
	"$1" "${args[@]}" >/dev/null 2>&1 || true
	end=${EPOCHREALTIME/[.,]/}
	echo $((10#$end - 10#$start))
}

"$work/old" "${args[@]}" >/dev/null 2>&1 || true # warm-up
"$work/new" "${args[@]}" >/dev/null 2>&1 || true
for ((i = 0; i < RUNS; i++)); do
	echo "$(run_us "$work/old") $(run_us "$work/new")"
done >"$work/times"

echo "$RUNS runs of each, in turn; $RECORDS records; $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cimsess $ARGS"
awk '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ o[NR] = $1; n[NR] = $2; if ($1 > 0) r[++k] = $2 / $1 }
	END {
		printf "old %-12s median %.2f ms\n", old, median(o, NR) / 1000
		printf "new %-12s median %.2f ms\n", new, median(n, NR) / 1000
		printf "new/old: %.3f (median of the pairs)\n", median(r, k)
	}' old="$OLD" new="$NEW" "$work/times"
