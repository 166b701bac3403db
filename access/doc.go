// Package access implements doorman.AccessService: it loads what the access
// decision needs from the store, asks policy.Decide, commits the grant and
// its audit entry, and only then hands the grant to the door link.
//
// It imports the domain, policy and the Prometheus client; never a store,
// bus or HTTP package (those are given to it as domain interfaces).
package access
