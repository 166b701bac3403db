package natsbus

// PendingReplies returns how many commands still wait for an answer.
func (b *Bus) PendingReplies() int { return b.replies.pending() }

// EventShard is eventShard, for tests.
var EventShard = eventShard

// PerDoorQueue is perDoorQueue, for tests.
const PerDoorQueue = perDoorQueue

// ConnLists returns how many times the bus asked for connection lists.
func (b *Bus) ConnLists() int64 { return b.connLists.Load() }
