// Package relay drives a door's strike relay and reads its door sensor and
// the device's tamper switch. The agent speaks to the small Relay,
// DoorSensor and TamperSensor interfaces; Sim is the default driver (state
// observable by tests and demos). The Linux GPIO driver is
// agent/relay/gpio, apart from this package so that whoever uses only the
// interfaces or Sim (the agent library, the control plane's demo) links no
// GPIO code.
//
// Every driver fails secure: the strike is released only during a pulse,
// and Close leaves it locked. The relay only ever releases the entry side;
// egress never depends on it (see docs/device.md).
//
// This package imports only the standard library. It must never import
// periph.io or any other hardware library, the bus, the agent or any
// server code.
package relay
