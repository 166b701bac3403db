package wire

import "time"

// Size limits. A message over its limit is refused before it is parsed.
const (
	// MaxMessageSize is the largest message a device sends or accepts on
	// the bus (events, acknowledgements, time requests). The control plane
	// also sets it as the publish limit in every device's NATS user JWT.
	MaxMessageSize = 4096
	// MaxTokenSize is the largest signed command or time token accepted.
	MaxTokenSize = 2048
	// MaxEnrollSize is the largest enrollment request or response body.
	MaxEnrollSize = 64 << 10
	// MaxDetailLength is the longest free-text detail an event may carry.
	MaxDetailLength = 256
)

// Time limits of unlock commands.
const (
	// DefaultCommandTTL is how long an unlock command stays valid after it
	// is signed when the signer is given no lifetime. The control plane
	// gives every command the lifetime of its command timeout instead (see
	// natsbus), so that a command cannot open the door after the courier
	// was told the door is offline.
	DefaultCommandTTL = 10 * time.Second
	// MaxCommandTTL is the longest validity a device accepts. A token that
	// claims more is refused as malformed, which also bounds how long the
	// device must remember a used token ID.
	MaxCommandTTL = 60 * time.Second
	// DefaultSkew is how far a command's not-before (and issued-at) may lie
	// ahead of the device's corrected clock: it absorbs the clock error
	// left after the signed time sync (at most half the sync's round trip,
	// which the agent keeps under a second). Expiry gets no allowance: a
	// device never accepts a command after its exp on its own clock, so a
	// command that a broker or a reconnect buffer held back cannot open
	// the door after the control plane gave up on it. A device whose clock
	// runs ahead loses that much of a command's life, which is why the
	// time sync must be tight rather than the window wide.
	DefaultSkew = 2 * time.Second
)

// MaxOfflineWindow is the longest a door may keep accepting offline grants
// after its last signed time sync: its building's setting, at most 30 days
// (so that a door cut off for longer falls back to refusing, and its
// clock's drift stays within what DefaultOfflineSkew covers for a good
// crystal; see docs/offline.md).
const MaxOfflineWindow = 30 * 24 * time.Hour
