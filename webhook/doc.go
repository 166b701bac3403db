// Package webhook delivers Doorman's webhook messages the Standard Webhooks
// way (https://www.standardwebhooks.com): it signs each call (Sign), keeps
// calls away from private networks (Guard: the URL when an endpoint is
// made, and the address actually dialled when a call is sent), and POSTs
// them (Sender, the app.Sender of doorman.ChannelWebhook).
//
// It imports the domain and the standard library only; never a store,
// app, or an HTTP package of the module.
package webhook
