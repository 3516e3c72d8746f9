#!/usr/bin/env bash
# bench-last.sh — time util-linux `last -f F` against `cimsess history
# --wtmp F --db NEW` on the same generated wtmp file, whole process, and
# print their times, the ratios (of the median wall times, the median of
# each run's ratio to the run of last beside it, and of the CPU times) and
# the peak RSS of each; then the same for a second run of
# cimsess on the unchanged file with the database the first run filled;
# and, last, how the peak RSS grows from the smallest file to the largest.
#
# Usage: scripts/bench-last.sh [RUNS]
#   RUNS  runs per measurement (default 3)
# Environment: SIZES (default "100000 1000000"), FEW (records of the
#   pathological file, default 100000; 0 for none).
#
# The files come from history/internal/genwtmp: shape busy (up to 40
# sessions at a time on reused pts/N lines, a logout for every login, a
# shutdown and a boot every 2,000 sessions) at each size, and shape few
# (5 terminals carry every session, a boot every 50 sessions: the shape
# that made the history quadratic). Both print every session, to
# /dev/null. The runs are taken in turn (a run of last, a run of cimsess,
# and so on), so that the shared machine's changing load weighs on both
# alike; the mean and the median of the wall times, and the CPU time
# (user+sys) and peak RSS of one run, from /usr/bin/time (package "time").
set -euo pipefail

RUNS=${1:-3}
SIZES=${SIZES:-"100000 1000000"}
FEW=${FEW:-100000}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/cimsess" ./cmd/cimsess # the static command line README builds (not cimsessd: no daemon is timed); no dynamic loader at start

# ms: milliseconds since the epoch by bash's own clock ($EPOCHREALTIME):
# reading it runs no program (date did, and its start was timed too).
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }

# stats FILE: "MEAN MEDIAN" of the numbers in FILE
stats() {
	sort -n "$1" | awk '{ v[NR] = $1; t += $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f %.0f\n", t / NR, m }'
}

# pairs A B: the median of A's numbers each divided by B's on the same
# line: each run against the run of last beside it, which a load that
# changes between the runs moves least
pairs() {
	paste "$1" "$2" | awk '$2 > 0 { print $1 / $2 }' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit }
			printf "%.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cpu_rss CMD...: "CPU-ms PEAK-RSS-KiB" of one run
cpu_rss() {
	/usr/bin/time -f '%U %S %M' -o "$work/rss" "$@" >/dev/null 2>&1 || true
	awk '{ printf "%.0f %s\n", ($1 + $2) * 1000, $3 }' "$work/rss"
}

row() { printf '%-16s %-14s %8s %10s %7s %12s\n' "$@"; }

echo "$(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs of each, in turn; $(last --version 2>&1 | head -1)"
row file program mean-ms median-ms cpu-ms peak-rss-KiB
bench() {
	local name=$1 file=$2 i t
	: >"$work/last" && : >"$work/first" && : >"$work/again"
	for ((i = 0; i < RUNS; i++)); do
		t=$(ms); last -f "$file" >/dev/null; echo $(($(ms) - t)) >>"$work/last"
		rm -f "$work/db"*
		t=$(ms); "$work/cimsess" history --wtmp "$file" --db "$work/db" >/dev/null; echo $(($(ms) - t)) >>"$work/first"
		t=$(ms); "$work/cimsess" history --wtmp "$file" --db "$work/db" >/dev/null; echo $(($(ms) - t)) >>"$work/again"
	done
	read -r lm lmed < <(stats "$work/last")
	read -r fm fmed < <(stats "$work/first")
	read -r am amed < <(stats "$work/again")
	# medians of each run's ratio to the run of last beside it
	read -r fp < <(pairs "$work/first" "$work/last")
	read -r ap < <(pairs "$work/again" "$work/last")
	read -r lc lr < <(cpu_rss last -f "$file")
	rm -f "$work/db"*
	read -r fc fr < <(cpu_rss "$work/cimsess" history --wtmp "$file" --db "$work/db")
	read -r ac ar < <(cpu_rss "$work/cimsess" history --wtmp "$file" --db "$work/db")
	row "$name" last "$lm" "$lmed" "$lc" "$lr"
	row "$name" "cimsess new db" "$fm" "$fmed" "$fc" "$fr"
	row "$name" "cimsess again" "$am" "$amed" "$ac" "$ar"
	awk -v l="$lmed" -v f="$fmed" -v a="$amed" -v lr="$lr" -v fr="$fr" -v lc="$lc" -v fc="$fc" -v ac="$ac" -v fp="$fp" -v ap="$ap" \
		'BEGIN { if (l <= 0) exit
			cpu = "n/a (last under 10 ms)"
			if (lc > 0) cpu = sprintf("new db %.2fx, again %.2fx", fc / lc, ac / lc)
			printf "                 cimsess/last: medians new db %.2fx, again %.2fx; pairs new db %.2fx, again %.2fx; CPU %s; peak RSS %.1fx\n", f / l, a / l, fp, ap, cpu, fr / lr }'
	rss_first+=("$fr") && rss_again+=("$ar") && rss_names+=("$name")
}
rss_first=() rss_again=() rss_names=()
for n in $SIZES; do
	go run ./history/internal/genwtmp -out "$work/wtmp.$n" -n "$n"
	bench "busy $n" "$work/wtmp.$n"
	rm -f "$work/wtmp.$n"
done
# Peak RSS against the file's size: the busy files, smallest to largest.
n=${#rss_first[@]}
if [ "$n" -gt 1 ]; then
	awk -v a="${rss_names[0]}" -v b="${rss_names[n - 1]}" -v f0="${rss_first[0]}" -v f1="${rss_first[n - 1]}" \
		-v a0="${rss_again[0]}" -v a1="${rss_again[n - 1]}" \
		'BEGIN { printf "peak RSS from %s to %s: new db %d -> %d KiB (%+.0f%%), again %d -> %d KiB (%+.0f%%)\n", a, b, f0, f1, 100 * (f1 - f0) / f0, a0, a1, 100 * (a1 - a0) / a0 }'
fi
if [ "$FEW" -gt 0 ]; then
	go run ./history/internal/genwtmp -out "$work/few" -n "$FEW" -shape few
	bench "few-ttys $FEW" "$work/few"
fi
