package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/email"
)

// MailConfig is how the outbox sends email.
type MailConfig struct {
	// SMTPURL is smtp://user:pass@host:587 (STARTTLS, required unless the
	// host is loopback) or smtps://user:pass@host:465; empty: no mail is
	// sent, each message is logged and kept on the console's mail page.
	SMTPURL string
	// From is the sender, e.g. "Doorman <doorman@example.org>".
	From string
	// Interval is the outbox worker's pause between passes (0: 1 s).
	Interval time.Duration
	// Lease is how long a node holds a message it is sending (0: 2 min):
	// a node that dies mid-send leaves it to another node, or to itself
	// restarted, after the lease.
	Lease time.Duration
}

// mailFlags registers the mail flags.
func (c *Config) mailFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Mail.SMTPURL, "smtp-url", c.Mail.SMTPURL, "SMTP server for email: smtp://user:pass@host:587 (STARTTLS, required but on loopback) or smtps://user:pass@host:465; empty: mail is not sent but logged and kept on the console's mail page")
	fs.StringVar(&c.Mail.From, "mail-from", c.Mail.From, `sender of Doorman's email, e.g. "Doorman <doorman@example.org>" (required with --smtp-url)`)
	fs.DurationVar(&c.Mail.Interval, "outbox-interval", c.Mail.Interval, "pause of the notification worker between passes (0: 1s)")
	fs.DurationVar(&c.Mail.Lease, "outbox-lease", c.Mail.Lease, "how long a node holds a message it is sending before another may send it (0: 2m); a send times out after half of it")
}

// outboxRunner is the running notification worker.
type outboxRunner struct {
	stop context.CancelFunc
	done chan struct{}
}

// startOutbox registers the email sender (SMTP, or the log without
// --smtp-url) and starts the outbox worker: it must come after every
// producer and sender is registered.
func (m *Main) startOutbox() error {
	o := m.App.Outbox
	if m.Config.Mail.SMTPURL == "" {
		o.RegisterSender(email.Log{Logger: m.Logger})
		m.Logger.Info("no --smtp-url: email is not sent; each message is logged and kept on the console's mail page")
	} else {
		base := m.Config.PublicURL
		if base == "" {
			base = m.URL()
		}
		if !strings.HasPrefix(base, "https://") {
			m.Logger.Warn("unsubscribe links in email should be https: set --public-url", "url", base)
		}
		s, err := email.New(email.Config{URL: m.Config.Mail.SMTPURL, From: m.Config.Mail.From, BaseURL: base,
			Unsubscribe: o.UnsubscribeToken, Language: m.Store.ResidentLanguage})
		if err != nil {
			return fmt.Errorf("email: %w", err)
		}
		o.RegisterSender(s)
		m.Logger.Info("email over SMTP", "server", s.String(), "from", m.Config.Mail.From)
	}
	o.Configure(outboxSettings(m.Config.Mail), nil)
	ctx, cancel := context.WithCancel(doorman.NewContextWithPrincipal(context.Background(), doorman.System()))
	m.outbox = &outboxRunner{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.outbox.done)
		o.Run(ctx)
	}()
	return nil
}

// stopOutbox stops the worker and waits for it until ctx ends: a message
// being sent then is left leased and sent again after its lease.
func (m *Main) stopOutbox(ctx context.Context) error {
	if m.outbox == nil {
		return nil
	}
	m.outbox.stop()
	select {
	case <-m.outbox.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("outbox worker: %w", ctx.Err())
	}
}

func outboxSettings(c MailConfig) app.OutboxSettings {
	return app.OutboxSettings{Interval: c.Interval, Lease: c.Lease}
}
