// Package history keeps a durable record of every session that came and
// went: one row per session lifecycle (class, LogonId, user, terminal,
// remote host, LogonType, start, end and how it ended) and the changes of
// its Status, in an embedded SQLite database (pure Go, WAL mode).
//
// Three things feed it:
//
//   - [PairWtmp] turns a wtmp file into lifecycles, pairing logins with
//     logouts, shutdowns and crashes exactly as util-linux's last(1) does;
//     [Store.Backfill] merges them in, so that nothing wtmp knows is lost.
//   - [Recorder] follows the object manager's instance events and writes
//     each creation, deletion and Status change as it happens.
//   - On start, the Recorder reconciles: sessions that are open in the
//     database but no longer present are closed as
//     "seen-gone-while-not-running" ([EndGone]), at wtmp's end time when
//     wtmp has one.
//
// [Store.Sessions] answers "who was on, when" with filters, and
// [Store.Prune] applies retention (an age and a row bound). Every error
// that leaves the package is a [*cim.Error] with a one-line description.
package history
