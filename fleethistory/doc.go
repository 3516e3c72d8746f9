// Package fleethistory keeps the session history of a whole fleet in
// PostgreSQL: what the hosts' agents publish on the fleet's event stream,
// turned into one row per session lifecycle (host, class, LogonId, user,
// uid, LogonType, terminal, remote host and address, start, end, how it
// ended) and the changes of its Status — the session model of the local
// [history] package, with the host added.
//
// The schema is managed by goose from SQL migrations embedded in the
// binary. Every table is partitioned by month (UTC); [Store.Apply] creates
// the partitions a batch needs (and [Store.EnsurePartitions] those of the
// months ahead), and [Store.Retain] drops the partitions older than the
// retention period. Writes are idempotent on the event's message id: a
// batch applied twice, in whole or in part, changes nothing the second
// time, so that a collector may acknowledge its messages after the commit
// and a redelivery after a crash neither loses nor duplicates a row.
// Events of one session may arrive in any order and from several
// collectors at once; a row's key is what every event of the session
// carries (host, class, LogonId, start), so they meet in the same row.
//
// [Store.Sessions] answers the fleet-wide questions: by host (a glob),
// user, remote address, a time range, or the sessions open at one instant.
// Every error that leaves the package is a [*cim.Error].
package fleethistory
