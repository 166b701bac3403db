// Package hardware opens the door hardware that hardware.json in the
// device's data dir describes: the simulated relay (the default, also
// when the file is absent), the Linux GPIO relay driver of
// agent/relay/gpio, or its Wiegand output to an access-control panel.
//
// Only the device binary (cmd/doorman-agent) imports it, so that the GPIO
// driver and periph.io are linked there and nowhere else: the agent
// library and the control plane's demo see only agent/relay.
//
// This package imports the agent (for the data dir's file rules),
// agent/relay and agent/relay/gpio. It must never import the bus, a store
// or any other server code.
package hardware
