// Package certs obtains HTTPS certificates for sites through ACME HTTP-01
// and checks certificates that users bring themselves.
//
// The ACME client is golang.org/x/crypto/acme. Every one of its calls takes a
// context, so a cancelled job stops an issuance between any two requests,
// and the Go team maintains it together with autocert. It is also already
// part of the module's dependency graph. github.com/go-acme/lego/v4 was the
// alternative: its Obtain and its challenge providers take no context, it
// logs through a process-wide logger, and adding it raises the versions of
// several modules the rest of the server shares. The RFC 8555 order flow it
// would save is short and lives in Issuer.Obtain.
//
// HTTP-01 proves control of a domain by serving a key authorization at
// http://<domain>/.well-known/acme-challenge/<token>. The site's own nginx
// serves it; a ChallengeSolver (SSHSolver for managed servers) puts the
// file in place and removes it again, so issuance needs no extra listener
// and no downtime.
//
// Private keys (the ACME account key and each certificate's key) only leave
// this package as PEM for the caller to seal with secrets.Box. Nothing here
// logs, and Certificate keeps its key out of formatted and structured output.
package certs
