package main

import (
	"flag"

	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/webhook"
)

// webhookFlags registers the flags of webhook delivery.
func (c *Config) webhookFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.WebhookAllowLoopback, "webhook-allow-loopback", c.WebhookAllowLoopback,
		"let webhook endpoints be loopback URLs, over http too: for tests and development only, never in production")
}

// wireWebhooks gives the services the webhook endpoints' URL guard and
// registers the webhook producer and sender on the outbox.
func (m *Main) wireWebhooks() {
	guard := &webhook.Guard{AllowLoopback: m.Config.WebhookAllowLoopback}
	m.App.Webhooks = app.NewWebhooks(m.Store, guard, nil)
	m.App.Outbox.RegisterProducer(m.App.Webhooks.Produce)
	m.App.Outbox.RegisterSender(webhook.NewSender(m.Store, guard, 0, nil, m.Logger))
}
