#!/usr/bin/env bash
# bench-who.sh — time coreutils' `who FILE` against cimsess (or another
# reader) on the same utmp file, whole process, for a 10,000- and a
# 100,000-record file, and print their times, the speed-up and the peak RSS
# of each.
#
# Usage: scripts/bench-who.sh [COMMAND] [RUNS]
#   COMMAND  the command to compare, with F standing for the utmp file and
#            CIMSESS for a cimsess binary this script builds from the tree
#            (default: CIMSESS enum Win32_LogonSession --utmp F --output csv)
#   RUNS     runs per measurement (default 10)
# Environment: SIZES (default "10000 100000").
#
# The files come from provider/utmp/internal/genutmp: a boot and a run-level
# record, then logins on pts/N and X displays from IPv4 and IPv6 hosts, one
# logout in sixteen, with pids from 4,000,000 on, which do not exist (above
# this machine's pid_max, see the output): every login is a ghost instance
# to cimsess, as who shows it too.
#
# Run from anywhere in the repository. Uses hyperfine when installed, else
# a loop of RUNS runs timed with date +%s%N (the mean, and the best run, as
# the least disturbed by other load). CPU time (user+sys) and peak RSS come
# from /usr/bin/time (Debian package "time") when present.
set -euo pipefail

RUNS=${2:-10}
SIZES=${SIZES:-"10000 100000"}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/cimsess" ./cmd/cimsess
CMD=${1:-"CIMSESS enum Win32_LogonSession --utmp F --output csv"}

# substitute the file for every word F of the command, the binary for CIMSESS
cmd_for() {
	local file=$1 out="" w
	for w in $CMD; do
		case $w in
		F) w=$file ;;
		CIMSESS) w=$work/cimsess ;;
		esac
		out+="${out:+ }$w"
	done
	printf '%s' "$out"
}

# "MEAN BEST" wall times in milliseconds over RUNS runs
time_loop() {
	local cmd=$1 i start end d total=0 best=
	bash -c "$cmd" >/dev/null 2>&1 || true # warm-up
	for ((i = 0; i < RUNS; i++)); do
		start=$(date +%s%N)
		bash -c "exec $cmd" >/dev/null 2>&1 || true
		end=$(date +%s%N)
		d=$((end - start))
		total=$((total + d))
		if [ -z "$best" ] || [ "$d" -lt "$best" ]; then best=$d; fi
	done
	awk -v t="$total" -v n="$RUNS" -v b="$best" 'BEGIN { printf "%.1f %.1f\n", t / n / 1e6, b / 1e6 }'
}

# "MEAN BEST" in ms, with hyperfine when there is one
time_ms() {
	local cmd=$1
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine --warmup 1 --runs "$RUNS" --style none --export-json "$work/h.json" \
			--ignore-failure "$cmd" >/dev/null 2>&1
		awk -F: '/"mean"/ { gsub(/[ ,]/, "", $2); m = $2 * 1000 } /"min"/ { gsub(/[ ,]/, "", $2); b = $2 * 1000 }
			END { printf "%.1f %.1f\n", m, b }' "$work/h.json"
	else
		time_loop "$cmd"
	fi
}

# "CPU-ms PEAK-RSS-KiB" of one run, or "n/a n/a"
cpu_rss() {
	local cmd=$1
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%U %S %M' -o "$work/rss" bash -c "exec $cmd" >/dev/null 2>&1 || true
		awk '{ printf "%.0f %s\n", ($1 + $2) * 1000, $3 }' "$work/rss"
	else
		echo n/a n/a
	fi
}

echo "timer: $(command -v hyperfine >/dev/null 2>&1 && echo hyperfine || echo "date loop, $RUNS runs"); $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg); pid_max $(cat /proc/sys/kernel/pid_max 2>/dev/null || echo ?)"
echo "command: $CMD"
printf '%-8s %-8s %10s %10s %8s %12s\n' records program mean-ms best-ms cpu-ms peak-rss-KiB
for n in $SIZES; do
	file="$work/utmp.$n"
	go run ./provider/utmp/internal/genutmp -out "$file" -n "$n"
	who_cmd="who $file"
	other_cmd=$(cmd_for "$file")
	if ! bash -c "$other_cmd" >/dev/null 2>&1; then
		echo "warning: '$other_cmd' failed; its times are of a failing run" >&2
	fi
	read -r who_mean who_best < <(time_ms "$who_cmd")
	read -r other_mean other_best < <(time_ms "$other_cmd")
	read -r who_cpu who_rss < <(cpu_rss "$who_cmd")
	read -r other_cpu other_rss < <(cpu_rss "$other_cmd")
	printf '%-8s %-8s %10s %10s %8s %12s\n' "$n" who "$who_mean" "$who_best" "$who_cpu" "$who_rss"
	printf '%-8s %-8s %10s %10s %8s %12s\n' "$n" command "$other_mean" "$other_best" "$other_cpu" "$other_rss"
	awk -v a="$other_mean" -v b="$who_mean" -v c="$other_best" -v d="$who_best" \
		'BEGIN { if (a > 0 && c > 0) printf "         speed-up who/command: %.2fx (means), %.2fx (best runs)\n", b / a, d / c }'
done
