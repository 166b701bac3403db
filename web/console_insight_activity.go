package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
)

// The live activity stream: the server asks the audit service for new
// entries every pollEvery, and sends a comment every heartbeatEvery so
// that proxies and the browser keep the connection. Each write may take
// writeWithin (the server's WriteTimeout would end the stream after a
// minute otherwise).
const (
	pollEvery      = 2 * time.Second
	heartbeatEvery = 15 * time.Second
	writeWithin    = 30 * time.Second
	activityRows   = 50
)

// activityPage is the data of console/activity.html.
type activityPage struct {
	Building *doorman.Building
	Rows     []auditRow
	// LastSeq is the largest seq shown: the live stream goes on from it.
	LastSeq int64
}

// activityPage shows a building's latest audit entries, newest first;
// app.js keeps the table live over the events stream.
func (s *Server) activityPage(w http.ResponseWriter, r *http.Request) {
	b, err := s.app.Buildings.Building(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.app.Audit.Recent(r.Context(), b.ID, 0, activityRows)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := activityPage{Building: b, Rows: rows(b, v, 0)}
	for _, e := range v.Entries {
		page.LastSeq = max(page.LastSeq, e.Seq)
	}
	s.render(w, r, http.StatusOK, "console/activity.html", page)
}

// activityEvents streams a building's new audit entries as Server-Sent
// Events: each "rows" event carries table rows (HTML the server rendered
// and escaped) for the entries after the last one the browser has, newest
// first; its id is the largest seq sent, so a reconnecting browser
// (Last-Event-ID) misses nothing. The session is checked again at every
// poll: a session signed out elsewhere ends the stream ("end" event).
func (s *Server) activityEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Reading the building authorises, before any byte of the stream is
	// sent.
	b, err := s.app.Buildings.Building(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := b.ID
	after := seqParam(r.Header.Get("Last-Event-ID"))
	if after == 0 {
		after = seqParam(r.URL.Query().Get("after"))
	}
	if after == 0 {
		v, err := s.app.Audit.Recent(ctx, id, 0, 1)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, e := range v.Entries {
			after = e.Seq
		}
	}
	cookie, _ := r.Cookie(sessionCookie)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(chunk string) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(writeWithin)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return false
		}
		if _, err := io.WriteString(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(fmt.Sprintf("retry: %d\n: live\n\n", (5 * time.Second).Milliseconds())) {
		return
	}

	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	lastWrite := time.Now()
	behind := false // the last poll was full: ask again at once
	for {
		if !behind {
			select {
			case <-ctx.Done():
				return
			case <-poll.C:
			}
		}
		pctx, ok := s.stillSignedIn(ctx, cookie)
		if !ok {
			send("event: end\ndata: signed out\n\n")
			return
		}
		v, err := s.app.Audit.Recent(pctx, id, after, activityRows)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("web: activity stream", "building", id, "err", err)
				send("event: end\ndata: stopped\n\n")
			}
			return
		}
		behind = len(v.Entries) == activityRows
		if len(v.Entries) > 0 {
			html, err := s.fragment("console/activity.html", "insightRows", rows(b, v, 0))
			if err != nil {
				s.logger.Error("web: activity rows", "err", err)
				return
			}
			for _, e := range v.Entries {
				after = max(after, e.Seq)
			}
			if !send(sseEvent("rows", strconv.FormatInt(after, 10), strings.TrimSpace(html))) {
				return
			}
			lastWrite = time.Now()
		} else if time.Since(lastWrite) >= heartbeatEvery {
			if !send(": heartbeat\n\n") {
				return
			}
			lastWrite = time.Now()
		}
	}
}

// stillSignedIn resolves the stream's session cookie again, so that a
// session that ended (signed out, expired, revoked) ends the stream too.
func (s *Server) stillSignedIn(ctx context.Context, c *http.Cookie) (context.Context, bool) {
	if c == nil {
		// Not signed in by cookie (tests calling the handler with a
		// principal): the principal stays.
		return ctx, doorman.PrincipalFromContext(ctx) != nil
	}
	p, err := s.app.Credentials.Authenticate(ctx, c.Value)
	if err != nil {
		return ctx, false
	}
	return doorman.NewContextWithPrincipal(ctx, p), true
}

// sseEvent formats one Server-Sent Event; every line of data gets its
// own "data:" field.
func sseEvent(name, id, data string) string {
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	for line := range strings.SplitSeq(strings.ReplaceAll(data, "\r", ""), "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// seqParam parses a seq from a query parameter or Last-Event-ID (0 when
// absent or not a positive number).
func seqParam(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
