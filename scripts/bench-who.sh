#!/usr/bin/env bash
# bench-who.sh — time coreutils' `who FILE` against cimsess (or another
# reader) on the same utmp file, whole process, for a 10,000- and a
# 100,000-record file (and 1,000,000 with SIZES), and print their times,
# the speed-up (of the means, the medians, the best runs, and the median of
# the pairs of runs taken in turn), the peak RSS of each and its ratio,
# and how the command's peak RSS grows from the smallest file to the
# largest.
#
# Usage: scripts/bench-who.sh [COMMAND] [RUNS]
#   COMMAND  the command to compare, with F standing for the utmp file and
#            CIMSESS for a cimsess binary this script builds from the tree
#            (default: CIMSESS enum Win32_LogonSession --utmp F --output csv):
#            a program and its arguments, split at blanks, started directly
#            (no shell syntax: quotes, redirections and VAR=value are not)
#   RUNS     runs per measurement (default 10)
# Environment: SIZES (default "10000 100000"; "10000 100000 1000000" for the
# memory goal), BIG_RUNS (runs for a file of more than 100,000 records, where
# one run of who takes seconds; default 3), RSS_RUNS (runs of each under
# /usr/bin/time; default 3: CPU time is their median, peak RSS their
# highest).
#
# The files come from sysfile/utmp/internal/genutmp: a boot and a run-level
# record, then logins on pts/N and X displays from IPv4 and IPv6 hosts, one
# logout in sixteen, with pids from 4,000,000 on, which do not exist (above
# this machine's pid_max, see the output): every login is a ghost instance
# to cimsess, as who shows it too.
#
# Run from anywhere in the repository. The two commands are timed in turn,
# RUNS runs each, by bash's own clock ($EPOCHREALTIME, bash 5) around the
# command started directly: a run of who, a run of the command, and so on,
# so that the shared machine's changing load weighs on both alike. (The
# timer was date +%s%N around bash -c "exec COMMAND": that added the
# start of date and of a second bash, 5-7 ms, to every run of both,
# which understated the speed-up of the faster.) What starting a process
# costs at all is printed as the timer's floor: /bin/true timed the same way.
# It prints the mean, the median (the figure least moved by a disturbed
# run) and the best run of each. CPU time (user+sys) and peak RSS of one
# run come from /usr/bin/time (Debian package "time") when present.
set -euo pipefail

RUNS=${2:-10}
SIZES=${SIZES:-"10000 100000"}
BIG_RUNS=${BIG_RUNS:-3}
RSS_RUNS=${RSS_RUNS:-3}

cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -o "$work/cimsess" ./cmd/cimsess # the static command line README builds (not cimsessd: no daemon is timed); no dynamic loader at start
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

# Wall times, in milliseconds, of RUNS runs of two commands taken in
# turn (a run of one, then a run of the other), so that a change in the
# machine's load (it is shared) weighs on both alike. Prints
# "MEAN MEDIAN BEST" of the first command, then of the second, then the
# median of the pairs' ratios (first/second): each run of one against the
# run of the other beside it, which a load that changes between the pairs
# moves least.
time_pair() {
	local runs=$3 i
	local -a a b
	read -ra a <<<"$1"
	read -ra b <<<"$2"
	: >"$work/ta"
	: >"$work/tb"
	"${a[@]}" >/dev/null 2>&1 || true # warm-up
	"${b[@]}" >/dev/null 2>&1 || true
	for ((i = 0; i < runs; i++)); do
		run_ns "${a[@]}" >>"$work/ta"
		run_ns "${b[@]}" >>"$work/tb"
	done
	for f in "$work/ta" "$work/tb"; do
		sort -n "$f" | awk '{ v[NR] = $1; t += $1 }
			END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "%.1f %.1f %.1f\n", t / NR / 1e6, m / 1e6, v[1] / 1e6 }'
	done
	paste "$work/ta" "$work/tb" | awk '$2 > 0 { print $1 / $2 }' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit }
			printf "%.2f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_ns COMMAND...: runs the command (its output dropped, its failure
# ignored) and prints its wall time in nanoseconds, by bash's clock: no
# process but the command's is started between the two readings.
run_ns() {
	local start end
	start=${EPOCHREALTIME/[.,]/}
	"$@" >/dev/null 2>&1 || true
	end=${EPOCHREALTIME/[.,]/}
	echo $(((10#$end - 10#$start) * 1000))
}

# "CPU-ms PEAK-RSS-KiB" of RSS_RUNS runs (the median CPU time, the highest
# peak RSS), or "n/a n/a"
cpu_rss() {
	local i
	local -a cmd
	read -ra cmd <<<"$1" # its words, as time_pair runs them
	if [ -x /usr/bin/time ]; then
		: >"$work/rss"
		for ((i = 0; i < RSS_RUNS; i++)); do
			/usr/bin/time -f '%U %S %M' -a -o "$work/rss" "${cmd[@]}" >/dev/null 2>&1 || true
		done
		awk '{ printf "%.0f %s\n", ($1 + $2) * 1000, $3 }' "$work/rss" | sort -n |
			awk '{ c[NR] = $1; if ($2 > m) m = $2 } END { printf "%s %s\n", c[int((NR + 1) / 2)], m }'
	else
		echo n/a n/a
	fi
}

floor=$(for ((i = 0; i < RUNS; i++)); do run_ns /bin/true; done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1e6 }')
echo "timer: bash's clock, $RUNS runs of each ($BIG_RUNS above 100,000 records), in turn; floor (/bin/true) $floor ms; $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg); pid_max $(cat /proc/sys/kernel/pid_max 2>/dev/null || echo ?)"
echo "command: $CMD"
printf '%-8s %-8s %9s %10s %8s %7s %12s\n' records program mean-ms median-ms best-ms cpu-ms peak-rss-KiB
for n in $SIZES; do
	file="$work/utmp.$n"
	go run ./sysfile/utmp/internal/genutmp -out "$file" -n "$n"
	who_cmd="who $file"
	other_cmd=$(cmd_for "$file")
	read -ra argv <<<"$other_cmd"
	if ! "${argv[@]}" >/dev/null 2>&1; then
		echo "warning: '$other_cmd' failed; its times are of a failing run" >&2
	fi
	{
		read -r who_mean who_median who_best
		read -r other_mean other_median other_best
		read -r pairs
	} < <(time_pair "$who_cmd" "$other_cmd" "$([ "$n" -gt 100000 ] && echo "$BIG_RUNS" || echo "$RUNS")")
	read -r who_cpu who_rss < <(cpu_rss "$who_cmd")
	read -r other_cpu other_rss < <(cpu_rss "$other_cmd")
	printf '%-8s %-8s %9s %10s %8s %7s %12s\n' "$n" who "$who_mean" "$who_median" "$who_best" "$who_cpu" "$who_rss"
	printf '%-8s %-8s %9s %10s %8s %7s %12s\n' "$n" command "$other_mean" "$other_median" "$other_best" "$other_cpu" "$other_rss"
	awk -v a="$other_mean" -v b="$who_mean" -v c="$other_median" -v d="$who_median" -v e="$other_best" -v f="$who_best" -v p="$pairs" \
		'BEGIN { if (a > 0 && c > 0 && e > 0) printf "         speed-up who/command: %.2fx (means), %.2fx (medians), %.2fx (best runs), %.2fx (median of the pairs)\n", b / a, d / c, f / e, p }'
	awk -v a="$other_rss" -v b="$who_rss" 'BEGIN { if (a > 0 && b > 0) printf "         peak RSS command/who: %.2fx (%.1f MiB against %.1f MiB)\n", a / b, a / 1024, b / 1024 }'
	[ -n "${first_rss:-}" ] || { first_n=$n first_rss=$other_rss; }
	last_n=$n last_rss=$other_rss
done
if [ "${first_n:-}" != "${last_n:-}" ]; then
	awk -v a="$first_rss" -v b="$last_rss" -v n="$first_n" -v m="$last_n" \
		'BEGIN { if (a > 0 && b > 0) printf "command peak RSS from %d to %d records: %+.1f%% (%.1f to %.1f MiB)\n", n, m, (b / a - 1) * 100, a / 1024, b / 1024 }'
fi
