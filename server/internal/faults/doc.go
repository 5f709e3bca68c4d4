// Package faults is the control plane's fault-injection suite: the server
// killed while sites are being created, Redis and a VPS's sshd stopped
// under way, SQLite under concurrent writers, creations racing for the
// last slots of a server, a sweep of malformed and hostile input over
// every route of the OpenAPI document, and a sweep for leaked secrets over
// everything the suite saw. Its tests run with CHOM_FAULTS=1 (make
// faults); those that need the VPS test hosts also need CHOM_INTEGRATION=1.
package faults
