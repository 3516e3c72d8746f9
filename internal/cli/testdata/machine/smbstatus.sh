#!/bin/sh
# smbstatus of the fixture machine: Samba 4.17's JSON of two sessions, whatever is asked
cat "$(dirname "$0")/smbstatus.json"
