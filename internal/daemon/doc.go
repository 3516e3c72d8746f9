// Package daemon holds the verbs that run as daemons, which only the
// cimsessd binary links: serve (the CIM-XML and WS-Management server),
// hub and agent (the fleet's NATS server and each host's publisher) and
// collect (the fleet's history, with its timeline page). They link what
// the command line does not need at every start: the HTTP front end and
// its Prometheus metrics, the embedded nats-server, the collector. Each
// registers its command with cli.Register from init, and runs on the
// cli.Env the command line gives it, as the command line's own verbs do.
package daemon
