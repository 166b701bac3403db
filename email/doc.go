// Package email is the outbox's sender of the email channel: it renders a
// message through its kind's templates in the resident's language (text
// with text/template, HTML with html/template, both embedded) and sends
// it over SMTP with github.com/wneessen/go-mail, with a Message-ID made
// from the message's ID and, for notices a resident can turn off, a
// one-click List-Unsubscribe (RFC 8058). Without an SMTP server, Log
// stands in: it logs each message, which stays on the console's mail page.
//
// It imports the domain and go-mail only; never a store, app or an HTTP
// package. cmd/doorman wires it to app.Outbox.
package email
