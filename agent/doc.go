// Package agent is the door device's software as a library: it loads the
// device's identity from its data dir, connects outbound to the bus with its
// own NATS credentials over TLS pinned to the enrollment CA, verifies every
// unlock command (wire.Verifier) against pinned keys, a corrected clock and
// a replay store that survives restart, pulses the strike relay, answers
// with an acknowledgement, and reports events through a disk queue that
// keeps each event until the control plane's receipt says it is recorded,
// also through an outage.
//
// Whatever arrives on the bus (garbage, truncated, oversized, forged,
// replayed, expired or foreign commands) the door stays shut, the agent
// keeps running and a command_rejected event is reported. It also stays
// shut before the first signed time sync since the agent started
// (clock_unsynced), and when the token ID or the unlock_executed event
// cannot be made durable (storage_fault): the relay never moves without
// both on disk. The replay log is a checksummed record log whose torn
// tail is cut off before anything is appended; both it and the event
// queue write through FS, which tests replace with a disk that fills up. Messages on the
// command subject without a reply subject are no commands (the server
// sends those on behalf of whoever named the subject as a reply) and are
// ignored without a report.
//
// This package runs on the device. It must never import natsbus,
// nats-server, a database driver or any other control-plane package; the
// device binary's dependency test enforces it. It must never import a
// hardware driver either (agent/relay/gpio, periph.io): it speaks to
// agent/relay's interfaces, and the control plane's demo links it.
package agent
