// Package app is Doorman's application layer: one service per group of use
// cases (buildings, carriers and parcels, credentials, accounts, devices,
// audit), each of which authorises its caller before it reads or writes
// anything. The caller is the doorman.Principal in the context
// (doorman.NewContextWithPrincipal); a context without one is an anonymous
// caller. The HTTP API, the CLI, the demo and the bus consumer are thin
// adapters over these services, so that no surface can allow what another
// refuses. The access decision itself lives in package access, which the
// services sit beside.
//
// Services take narrow store interfaces, naming only the store methods they
// use. An object outside the caller's scope is answered exactly like one
// that does not exist (ENOTFOUND), so that IDs cannot be probed.
//
// It imports the domain, wire, password, auditlog and
// golang.org/x/mod/sumdb/note; never a store, bus or HTTP package, nor a
// driver (those are given to it as interfaces).
package app
