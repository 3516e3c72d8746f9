#!/usr/bin/env bash
# bench-who.sh — time coreutils' `who FILE` against another reader of the
# same utmp file, for a 10,000- and a 100,000-record file, and print the
# ratio of their times and the peak RSS of each.
#
# Usage: scripts/bench-who.sh [COMMAND] [RUNS]
#   COMMAND  the command to compare, with F standing for the utmp file
#            (default: ./cimsess enum Win32_LogonSession --utmp F --output csv)
#   RUNS     runs per measurement without hyperfine (default 10)
#
# Run from the repository root. Uses hyperfine when installed, else a loop
# of RUNS runs timed with date +%s%N; peak RSS comes from /usr/bin/time -f %M
# (Debian package "time") when present.
set -euo pipefail

CMD=${1:-"./cimsess enum Win32_LogonSession --utmp F --output csv"}
RUNS=${2:-10}
SIZES=${SIZES:-"10000 100000"}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# substitute FILE for every word F of the command
cmd_for() {
	local file=$1 out="" w
	for w in $CMD; do
		if [ "$w" = F ]; then w=$file; fi
		out+="${out:+ }$w"
	done
	printf '%s' "$out"
}

# mean wall time of a command in milliseconds over RUNS runs
time_loop() {
	local cmd=$1 i start end total=0
	bash -c "$cmd" >/dev/null 2>&1 || true # warm-up
	for ((i = 0; i < RUNS; i++)); do
		start=$(date +%s%N)
		bash -c "$cmd" >/dev/null 2>&1 || true
		end=$(date +%s%N)
		total=$((total + end - start))
	done
	awk -v t="$total" -v n="$RUNS" 'BEGIN { printf "%.2f", t / n / 1e6 }'
}

# mean wall time in ms, with hyperfine when there is one
time_ms() {
	local cmd=$1
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine --warmup 1 --runs "$RUNS" --style none --export-json "$work/h.json" \
			--ignore-failure "$cmd" >/dev/null 2>&1
		awk -F: '/"mean"/ { gsub(/[ ,]/, "", $2); printf "%.2f", $2 * 1000; exit }' "$work/h.json"
	else
		time_loop "$cmd"
	fi
}

# peak resident set size in KiB, or "n/a"
peak_rss() {
	local cmd=$1
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$work/rss" bash -c "exec $cmd" >/dev/null 2>&1 || true
		tail -n 1 "$work/rss"
	else
		echo n/a
	fi
}

echo "timer: $(command -v hyperfine >/dev/null 2>&1 && echo hyperfine || echo "date loop, $RUNS runs")"
printf '%-8s %-44s %12s %12s\n' records command mean-ms peak-rss-KiB
for n in $SIZES; do
	file="$work/utmp.$n"
	go run ./provider/utmp/internal/genutmp -out "$file" -n "$n"
	who_cmd="who $file"
	other_cmd=$(cmd_for "$file")
	if ! bash -c "$other_cmd" >/dev/null 2>&1; then
		echo "warning: '$other_cmd' failed; its times are of a failing run" >&2
	fi
	who_ms=$(time_ms "$who_cmd")
	other_ms=$(time_ms "$other_cmd")
	who_rss=$(peak_rss "$who_cmd")
	other_rss=$(peak_rss "$other_cmd")
	printf '%-8s %-44s %12s %12s\n' "$n" "who" "$who_ms" "$who_rss"
	printf '%-8s %-44.44s %12s %12s\n' "$n" "$CMD" "$other_ms" "$other_rss"
	awk -v a="$other_ms" -v b="$who_ms" 'BEGIN { if (b > 0) printf "         ratio command/who: %.2f\n", a / b }'
done
