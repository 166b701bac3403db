package natsbus

// PendingReplies returns how many commands still wait for an answer.
func (b *Bus) PendingReplies() int { return b.replies.pending() }

// SetConnzPage sets how many connections one connection-list answer holds
// until the test ends.
func SetConnzPage(tb interface{ Cleanup(func()) }, n int) {
	was := connzPage
	connzPage = n
	tb.Cleanup(func() { connzPage = was })
}
