// Package access holds what decides who may use cimsess's servers, apart
// from the servers themselves so that the command line links none of
// them: the users file (one account a line, a bcrypt hash of its
// password, its role; `cimsess user` manages it, `cimsessd serve` and the
// timeline of `cimsessd collect` authenticate against it through
// server.Users) and the loopback rule (IsLoopback: where plain HTTP and
// --no-auth are allowed, and where plain NATS is no warning).
package access
