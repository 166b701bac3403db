package natsbus

// PendingReplies returns how many commands still wait for an answer.
func (b *Bus) PendingReplies() int { return b.replies.pending() }

// EventShard is eventShard, for tests.
var EventShard = eventShard
