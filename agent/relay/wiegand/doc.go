// Package wiegand presents a credential to a building's existing
// access-control panel as a card reader would: it encodes a facility code
// and card number as a 26-bit (H10301) or 34-bit Wiegand frame, decodes
// and parity-checks frames (for tests and as a diagnostic), and transmits
// a frame on two output lines, D0 and D1, with the panel's pulse timing.
//
// Transmitter implements agent/relay's Relay: a Pulse sends the frame
// once and the panel decides, by its own configuration, whether and how
// long its strike opens. Doorman adds one "card" to the panel; residents'
// fobs and egress never pass through it (see docs/device.md).
//
// The package knows no hardware: the transmitter drives two Line values
// and sleeps through an injected Sleeper, so tests check the exact bit
// sequence and its timing. agent/relay/gpio opens the lines on a GPIO
// character device.
//
// This package imports agent/relay and the standard library only. It must
// never import periph.io or any other hardware library, the bus, the agent
// or any server code.
package wiegand
