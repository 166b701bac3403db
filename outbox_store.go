package doorman

import (
	"context"
	"strings"
	"time"
)

// PrefixMessage is the ID prefix of an outbox message.
const PrefixMessage = "msg"

// KindResidentSignInLink is the kind of the email carrying a resident's
// sign-in link: a direct message whose body is cleared once it is sent.
const KindResidentSignInLink = "resident.sign_in_link"

// Languages a resident's mail is written in; LanguageDefault when unset.
const LanguageDefault = "en"

// OutboxChain is where the dispatcher stands in one audit chain: the seq
// of the last entry whose messages are queued, and the chain's last seq.
type OutboxChain struct {
	Chain   string
	Cursor  int64
	LastSeq int64
}

// MessageFilter selects messages for a list; empty fields match all.
type MessageFilter struct {
	BuildingID string
	Channel    string
	Status     string
}

// OutboxStore keeps the outbox: the messages to deliver and, per audit
// chain, the cursor of the dispatcher that produces them.
type OutboxStore interface {
	// EnqueueMessage adds a direct message (m.Source may be set too),
	// setting ID, Status (queued), Attempts, NextAttemptAt and CreatedAt.
	// A message whose (Source, Channel, Target, Kind) is queued already is
	// not added again: m gets the existing one's ID. Returns EINVALID, or
	// ENOTFOUND when m.ResidentID names no resident.
	EnqueueMessage(ctx context.Context, m *Message) error
	// OutboxChains lists the chains whose last entry is past their cursor
	// (a chain without a cursor is at 0).
	OutboxChains(ctx context.Context) ([]OutboxChain, error)
	// EntriesAfter lists at most limit entries of the chain with seq >
	// after, in seq order.
	EntriesAfter(ctx context.Context, chain string, after int64, limit int) ([]*AuditEntry, error)
	// ProduceMessages queues msgs (skipping any whose key is queued
	// already, or whose resident is gone) and moves the chain's cursor
	// from `from` to `to`, in one transaction. Returns ECONFLICT, queuing
	// nothing, when the cursor is no longer at from (another node moved
	// it), or EINVALID.
	ProduceMessages(ctx context.Context, chain string, from, to int64, msgs []*Message) error
	// ClaimMessages leases at most limit queued messages due at now to
	// the caller until now+lease, oldest due first, and returns them with
	// Attempts already counting this try. A leased message is claimed by
	// no one else until its lease ends (PostgreSQL: FOR UPDATE SKIP
	// LOCKED), so a node that dies mid-send leaves it to be claimed again.
	ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Message, error)
	// MarkMessageSent marks a message sent at `at`; clearBody empties its
	// text, HTML and payload (a sign-in link must not stay in the
	// database). Returns ENOTFOUND.
	MarkMessageSent(ctx context.Context, id string, at time.Time, clearBody bool) error
	// MarkMessageFailed records a failed try: queued again for next, or
	// dead when next is nil. Returns ENOTFOUND.
	MarkMessageFailed(ctx context.Context, id, lastError string, next *time.Time) error
	// RetryMessage queues a dead message again, due at now, with its
	// attempts reset. Returns ENOTFOUND, or ECONFLICT when it is not dead.
	RetryMessage(ctx context.Context, id string, now time.Time) error
	// Message returns ENOTFOUND.
	Message(ctx context.Context, id string) (*Message, error)
	// ListMessages lists messages newest first.
	ListMessages(ctx context.Context, f MessageFilter, p Page) ([]*Message, string, error)
	// ScrubMessagesBefore empties the subject, text, HTML and payload of
	// the building's sent and dead messages created before before (the
	// rows stay, saying what was sent to whom and when, for the
	// retention period's personal data to go). Queued messages are kept
	// whole. Returns how many it emptied.
	ScrubMessagesBefore(ctx context.Context, buildingID string, before time.Time) (int, error)
	// ResidentLanguage returns the resident's mail language. Returns
	// ENOTFOUND.
	ResidentLanguage(ctx context.Context, residentID string) (string, error)
	// SetResidentLanguage returns ENOTFOUND or EINVALID.
	SetResidentLanguage(ctx context.Context, residentID, language string) error
	// OutboxKey returns the secret of that name made by the migration
	// (e.g. "unsubscribe"), the same on every node. Returns ENOTFOUND.
	OutboxKey(ctx context.Context, name string) ([]byte, error)
}

// Preferences a kind of message is governed by (see PreferenceOf).
const (
	PreferenceDelivery = "delivery"
	PreferenceEntry    = "entry"
)

// PreferenceOf names the resident preference that governs messages of
// kind: PreferenceDelivery for "delivery.…" kinds, PreferenceEntry for
// "entry.…" kinds, and "" for kinds always sent (a sign-in link, a
// notice the law requires before access), which have no unsubscribe
// link.
func PreferenceOf(kind string) string {
	switch {
	case strings.HasPrefix(kind, "delivery."):
		return PreferenceDelivery
	case strings.HasPrefix(kind, "entry."):
		return PreferenceEntry
	}
	return ""
}

// Wants reports whether a resident with these preferences is sent
// messages of kind.
func (p ResidentPreferences) Wants(kind string) bool {
	switch PreferenceOf(kind) {
	case PreferenceDelivery:
		return p.NotifyDelivery
	case PreferenceEntry:
		return p.NotifyEntry
	}
	return true
}

// Without returns p with the preference governing kind turned off.
func (p ResidentPreferences) Without(kind string) ResidentPreferences {
	switch PreferenceOf(kind) {
	case PreferenceDelivery:
		p.NotifyDelivery = false
	case PreferenceEntry:
		p.NotifyEntry = false
	}
	return p
}

// Message limits.
const (
	MaxMessageKind    = 100
	MaxMessageSubject = 200
	MaxMessageBody    = 256 << 10
	MaxMessageError   = 1000
)

// Validate reports whether m can be queued. Returns EINVALID.
func (m *Message) Validate() error {
	switch {
	case m == nil:
		return Errorf(EINVALID, "No message.")
	case m.Channel != ChannelEmail && m.Channel != ChannelWebhook:
		return Errorf(EINVALID, "A message goes by email or webhook.")
	case m.Channel == ChannelEmail && !ValidEmail(m.Target):
		return Errorf(EINVALID, "An email needs a valid recipient.")
	case m.Target == "" || len(m.Target) > 320:
		return Errorf(EINVALID, "A message needs a target of at most 320 characters.")
	case m.Kind == "" || len(m.Kind) > MaxMessageKind:
		return Errorf(EINVALID, "A message needs a kind of 1 to %d characters.", MaxMessageKind)
	case len(m.Subject) > MaxMessageSubject:
		return Errorf(EINVALID, "A message's subject is at most %d characters.", MaxMessageSubject)
	case len(m.Text) > MaxMessageBody || len(m.HTML) > MaxMessageBody || len(m.Payload) > MaxMessageBody:
		return Errorf(EINVALID, "A message's body is at most %d bytes.", MaxMessageBody)
	case len(m.Source) > 64 || len(m.BuildingID) > 64 || len(m.ResidentID) > 64:
		return Errorf(EINVALID, "A message's source, building or resident is an ID.")
	}
	return nil
}

// ValidLanguage reports whether lang looks like a language tag ("en",
// "es", "pt-BR").
func ValidLanguage(lang string) bool {
	if len(lang) < 2 || len(lang) > 35 {
		return false
	}
	for i, r := range lang {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || (i >= 2 && (r == '-' || r >= '0' && r <= '9'))
		if !ok {
			return false
		}
	}
	return true
}
