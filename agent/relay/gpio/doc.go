// Package gpio is the strike relay and door sensor driver for a Linux GPIO
// character device (/dev/gpiochipN), through periph.io's gpioioctl. It
// implements agent/relay's Relay and DoorSensor, and fails secure like
// every driver: the strike is released only during a pulse, and Close
// leaves it locked.
//
// It lives apart from agent/relay so that only the device binary links
// periph.io: the control plane's demo uses relay's simulated driver and
// must not drag GPIO code into the server. Only agent/hardware, which the
// device binary alone imports, opens it.
//
// It also drives the Wiegand output of agent/relay/wiegand on two lines
// (Wiegand, OpenWiegand): the virtual fob that presents Doorman's
// credential to a building's existing access-control panel, with the same
// door contact and tamper switch inputs as the relay driver.
//
// This package imports agent/relay, agent/relay/wiegand, periph.io and the
// standard library; it must never import the agent, the bus or any server
// code.
package gpio
