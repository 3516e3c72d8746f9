#!/usr/bin/env bash
# Prepares a Debian machine for the end-to-end tests; run as root. Idempotent:
# installs the packages only when one is missing (apt-get update only then),
# and never starts a system service, since every test starts its own sshd or
# smbd on 127.0.0.1 and stops it again.
set -euo pipefail

packages=(openssh-server openssh-client samba smbclient sblim-wbemcli time)
packages+=(postgresql) # fleethistory tests start a throwaway cluster of their own
packages+=(wsl curl python3-winrm) # WS-Management tests: Debian's wsl (over curl) and pywinrm
packages+=(nats-server) # fleet: the 3-node cluster of the fleet tests
packages+=(chromium) # e2e/fleetdb: the timeline in a headless browser
packages+=(util-linux) # unshare and mount: an sshd per simulated host, each writing a utmp of its own
test_user=cimsess-test

if [ "$(id -u)" != 0 ]; then
	echo "setup-deps: must run as root" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "setup-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the packages' scripts from starting sshd, smbd or nmbd.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# added by cimsess scripts/setup-deps.sh for one install\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update -q </dev/null
	apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" </dev/null
fi

# glibc only writes utmp records into a file that exists.
if [ ! -e /var/run/utmp ]; then
	install -m 664 -o root -g utmp /dev/null /var/run/utmp
fi
# sshd's privilege separation directory.
install -d -m 755 /run/sshd

# The account that test logins use, so that root's sessions stay out of the way.
if ! id -u "$test_user" >/dev/null 2>&1; then
	useradd -m -s /bin/bash "$test_user"
fi

echo "setup-deps: ready ($(sshd -V 2>&1 | head -1 || true); $(smbd -V 2>/dev/null || true))"
