// Package policy holds Doorman's access decision: given everything known
// about a courier standing at a door with scanned parcels, may the door open?
//
// It is a pure function of its input: no I/O, no clock, no randomness, so
// that every denial reason is table-tested and a property test can show that
// no request failing any condition is ever allowed. It imports only the
// domain package and the standard library.
package policy
