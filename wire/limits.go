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
	// is signed.
	DefaultCommandTTL = 10 * time.Second
	// MaxCommandTTL is the longest validity a device accepts. A token that
	// claims more is refused as malformed, which also bounds how long the
	// device must remember a used token ID.
	MaxCommandTTL = 60 * time.Second
	// DefaultSkew is the clock difference a device tolerates between its
	// own corrected clock and the control plane's: a command is accepted
	// from NotBefore-DefaultSkew until ExpiresAt+DefaultSkew. Devices keep
	// their clock within this by the signed time service (see TimeSubject).
	DefaultSkew = 5 * time.Second
)
