// Package wire is the device protocol of Doorman, shared by the control plane
// (natsbus) and the door agent (agent): the signed unlock command, the
// signed time reply, the JSON messages a device sends (acknowledgements and
// events), the enrollment request and response, the NATS subject scheme and
// the size limits every message is held to.
//
// Unlock commands and time replies are PASETO v4.public tokens (Ed25519).
// The footer carries the signing key's PASERK ID ("kid") so keys can be
// rotated; an implicit assertion binds each token to its purpose, so a time
// reply can never pass as an unlock command. The device, not the network,
// is the last judge: Verifier checks signature, audience, time window and
// single use before anything moves.
//
// This package is imported by the device binary, so it must never import
// nats-server, a database driver, net/http servers or any control-plane
// package. It imports only the domain root, the standard library, the
// token library (aidanwoods.dev/go-paseto), nkeys (to check a device's
// public NATS key at enrollment) and golang.org/x/crypto/blake2b (PASERK
// key IDs).
package wire
