// Package password hashes and verifies manager passwords with argon2id,
// storing them as PHC strings such as
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>".
//
// The parameters travel inside each stored hash, so they can be raised later
// without invalidating existing passwords. Verification compares in constant
// time and refuses hashes whose parameters would make it a denial of service.
//
// This package imports only the standard library and golang.org/x/crypto; it
// must never import the doorman domain or any adapter.
package password
