// Package keyring is the one home of the deployment's keys: the command
// signing key and the audit checkpoint key (audit.go). For each it loads
// or creates this node's key file, pins the deployment's key IDs in the store
// (a node whose key the doors would refuse does not start), signs with the
// current key, and says which keys devices are given at enrollment. Key
// rotation lands here.
//
// It imports the domain, wire, internal/durable and
// golang.org/x/mod/sumdb/note; never a store, bus or HTTP package.
package keyring
