// Package natsbus is the control plane's side of the device bus. By default
// it embeds a NATS server (TLS with a CA it creates and keeps in the data
// dir, decentralized JWT auth); it can also connect to an external NATS
// deployment. Nothing is kept on the bus: JetStream runs only to record
// the device events an earlier version kept there.
//
// It issues each device a NATS user JWT that allows only that door's
// subjects (see wire's subject scheme), revokes devices in the running
// server, sends signed unlock commands by request/reply and believes only
// acknowledgements signed by the door's active device (reporting a door
// without one in time as offline), serves signed time to devices, hands
// device events to a callback and answers each with a receipt once it is
// recorded, and reports a device connected more than once.
//
// Auth design: decentralized JWT auth (operator, system account, one
// Doorman account with a signing key) rather than the auth callout. Device
// permissions then live in the device's own signed JWT, checked by the
// server on every connect with no round trip to the control plane, so
// devices reconnect even while every control-plane node is down; revocation
// is the account JWT's revocation list, updated in the running server.
//
// This package implements doorman.DoorLink. It must never import http,
// sqlite, postgres or any other adapter, and the device binary must never
// import it (it links nats-server).
package natsbus
