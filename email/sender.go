package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/doorman-dev/doorman"
)

// Config is what the SMTP sender needs.
type Config struct {
	// URL is the SMTP server: smtp://user:pass@host:587 (STARTTLS,
	// required but on a loopback host) or smtps://user:pass@host:465
	// (implicit TLS).
	URL string
	// From is the sender's address, e.g. "Doorman <doorman@example.org>".
	From string
	// BaseURL is Doorman's public URL (https), where unsubscribe links
	// lead.
	BaseURL string
	// Unsubscribe returns the unsubscribe token of a message, or "" when
	// it has none (app.Outbox.UnsubscribeToken).
	Unsubscribe func(ctx context.Context, m *doorman.Message) (string, error)
	// Language returns a resident's language (the store's
	// ResidentLanguage); nil: English.
	Language func(ctx context.Context, residentID string) (string, error)
	// Timeout bounds one SMTP conversation (30 s when 0).
	Timeout time.Duration
	// TLSConfig, when set, replaces the default (tests trust their own
	// server with it).
	TLSConfig *tls.Config
}

// Sender sends email over SMTP.
type Sender struct {
	cfg  Config
	host string
	opts []gomail.Option
}

// New returns the SMTP sender. Returns EINVALID for a URL or address it
// cannot use.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, doorman.Errorf(doorman.EINVALID, "--smtp-url must look like smtp://user:pass@host:587 or smtps://user:pass@host:465.")
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, doorman.Errorf(doorman.EINVALID, "--mail-from must be an address, like \"Doorman <doorman@example.org>\".")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	host := u.Hostname()
	port := 587
	if u.Scheme == "smtps" {
		port = 465
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, doorman.Errorf(doorman.EINVALID, "--smtp-url has a bad port.")
		}
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(cfg.Timeout)}
	loopback := isLoopback(host)
	switch {
	case u.Scheme == "smtps":
		opts = append(opts, gomail.WithSSL())
	case loopback:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(cfg.TLSConfig))
	} else {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}))
	}
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		auth := gomail.SMTPAuthAutoDiscover
		if loopback && u.Scheme == "smtp" {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	return &Sender{cfg: cfg, host: host, opts: opts}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Channel is doorman.ChannelEmail.
func (s *Sender) Channel() string { return doorman.ChannelEmail }

// Compose renders m and builds the email: From, To, Subject, Date, a
// Message-ID made from m's ID, the text and HTML parts, and for a message
// a resident can turn off, List-Unsubscribe with List-Unsubscribe-Post
// (RFC 8058). Returns EINVALID for a message that cannot be rendered or
// addressed.
func (s *Sender) Compose(ctx context.Context, m *doorman.Message) (*gomail.Msg, error) {
	lang := doorman.LanguageDefault
	if m.ResidentID != "" && s.cfg.Language != nil {
		l, err := s.cfg.Language(ctx, m.ResidentID)
		if err != nil && doorman.ErrorCode(err) != doorman.ENOTFOUND {
			return nil, err
		} else if err == nil {
			lang = l
		}
	}
	var unsubscribe string
	if s.cfg.Unsubscribe != nil {
		tok, err := s.cfg.Unsubscribe(ctx, m)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			unsubscribe = strings.TrimRight(s.cfg.BaseURL, "/") + "/unsubscribe?t=" + tok
		}
	}
	r, err := Render(m, lang, unsubscribe)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, doorman.Errorf(doorman.EINVALID, "Bad sender address: %v", err)
	}
	if err := msg.To(m.Target); err != nil {
		return nil, doorman.Errorf(doorman.EINVALID, "Bad recipient address: %v", err)
	}
	msg.Subject(r.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(MessageID(m.ID, s.cfg.From))
	msg.SetGenHeader("X-Doorman-Kind", m.Kind)
	if unsubscribe != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
	return msg, nil
}

// MessageID is the Message-ID of the email of message id (without angle
// brackets): the same on every try, so receivers drop duplicates.
func MessageID(id, from string) string {
	domain := "doorman.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
			domain = a.Address[at+1:]
		}
	}
	return id + "@" + domain
}

// Send sends m. A recipient the server refuses for good (a 5xx answer to
// RCPT TO) or a message that cannot be composed is EINVALID; anything
// else (the server down, a 4xx) is EUNAVAILABLE, to be retried.
func (s *Sender) Send(ctx context.Context, m *doorman.Message) error {
	msg, err := s.Compose(ctx, m)
	if err != nil {
		return err
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return doorman.Errorf(doorman.EINTERNAL, "SMTP client: %v", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
			return doorman.Errorf(doorman.EINVALID, "The mail server refused the recipient: %v", err)
		}
		return doorman.Errorf(doorman.EUNAVAILABLE, "SMTP: %v", err)
	}
	return nil
}

// Log is the email sender without an SMTP server (the demo): it logs
// each message and sends nothing. The outbox marks the message sent and
// keeps its body, so the console's mail page shows it.
type Log struct {
	Logger *slog.Logger
}

// Channel is doorman.ChannelEmail.
func (l Log) Channel() string { return doorman.ChannelEmail }

// LogsOnly is true: see app.Logger.
func (l Log) LogsOnly() bool { return true }

// Send logs m (not its body: it may hold a sign-in link).
func (l Log) Send(ctx context.Context, m *doorman.Message) error {
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Info("mail (no SMTP server: kept on the console's mail page)", "id", m.ID, "to", m.Target, "kind", m.Kind,
		"subject", m.Subject, "building", m.BuildingID)
	return nil
}

// String describes the sender for logs (no password).
func (s *Sender) String() string { return fmt.Sprintf("smtp %s", s.host) }
