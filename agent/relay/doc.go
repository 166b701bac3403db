// Package relay drives a door's strike relay and reads its door sensor. The
// agent speaks to the small Relay and DoorSensor interfaces; Sim is the
// default driver (state observable by tests and demos) and GPIO drives a
// Linux GPIO character device through periph.io's gpioioctl.
//
// Every driver fails secure: the strike is released only during a pulse,
// and Close leaves it locked. The relay only ever releases the entry side;
// egress never depends on it (see docs/device.md).
//
// This package must never import the bus, the agent or any server code.
package relay
