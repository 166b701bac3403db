package doorman

import "time"

// Channels a Message is delivered on.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Message statuses: queued until a sender delivers it (sent) or gives up
// on it after its tries or a permanent failure (dead, retried only by
// hand from the console).
const (
	MessageQueued = "queued"
	MessageSent   = "sent"
	MessageDead   = "dead"
)

// Message is one email or webhook call to deliver. It is produced durably —
// from an audit entry by the outbox's cursor over the building's log (so
// in effect in the same transaction as the event that caused it), or
// written directly for messages no event causes, such as a sign-in link —
// and delivered by the outbox worker with retries. Receivers drop
// duplicates by ID (the webhook-id header, the email's Message-ID), since
// delivery is at least once.
type Message struct {
	ID         string `json:"id"`
	Channel    string `json:"channel"`
	BuildingID string `json:"building_id,omitempty"`
	// Source is the audit entry that caused the message, or "" for a
	// direct one. (Source, Channel, Target, Kind) is unique: producing the
	// messages of an entry twice queues nothing twice.
	Source string `json:"source,omitempty"`
	// Target is an email address (ChannelEmail) or a webhook endpoint ID
	// (ChannelWebhook).
	Target string `json:"target"`
	// ResidentID is the resident an email is for, if any: their
	// preferences and language apply, and it goes when their data does.
	ResidentID string `json:"resident_id,omitempty"`
	// Kind is what the message says, e.g. "delivery.notice",
	// "access.granted", "resident.sign_in_link".
	Kind string `json:"kind"`
	// Subject, Text and HTML are an email's; Payload is a webhook's JSON
	// body (or, for an email, the data its templates are rendered from).
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
	Payload []byte `json:"payload,omitempty"`

	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
}
