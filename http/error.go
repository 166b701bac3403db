package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
)

// codeStatus is the one table mapping Doorman error codes to HTTP statuses.
// Malformed JSON is the one EINVALID answered with 400 (huma decides that
// before any handler runs); every rule broken by well-formed input is 422.
var codeStatus = map[string]int{
	doorman.EINVALID:        http.StatusUnprocessableEntity,
	doorman.ENOTFOUND:       http.StatusNotFound,
	doorman.EUNAUTHORIZED:   http.StatusUnauthorized,
	doorman.EFORBIDDEN:      http.StatusForbidden,
	doorman.ECONFLICT:       http.StatusConflict,
	doorman.ETOOMANYREQUEST: http.StatusTooManyRequests,
	doorman.EUNAVAILABLE:    http.StatusServiceUnavailable,
	doorman.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	doorman.EPRECONDITION:   http.StatusUnprocessableEntity,
	doorman.EINTERNAL:       http.StatusInternalServerError,
}

// statusCode is the code of a problem that huma produced from a bare
// status (malformed JSON, oversized body).
func statusCode(status int) string {
	for code, st := range codeStatus {
		if st == status && code != doorman.EPRECONDITION {
			return code
		}
	}
	if status >= 400 && status < 500 {
		return doorman.EINVALID
	}
	return doorman.EINTERNAL
}

// Problem is an RFC 9457 problem document, extended with Doorman's error
// code, a stable reason, and per-item errors.
type Problem struct {
	Type   string `json:"type" format:"uri" example:"urn:doorman:problem:invalid" doc:"URI naming the kind of problem: urn:doorman:problem:<code>."`
	Title  string `json:"title" example:"Unprocessable Entity" doc:"Short summary of the problem: the HTTP status text."`
	Status int    `json:"status" example:"422" doc:"HTTP status code."`
	Detail string `json:"detail" example:"Unknown time zone \"Mars/Olympus\"." doc:"What went wrong in this occurrence, safe to show to a person."`
	Code   string `json:"code" enum:"invalid,not_found,unauthorized,forbidden,conflict,too_many,unavailable,too_large,precondition,internal" doc:"Doorman error code; clients switch on it."`
	Reason string `json:"reason,omitempty" example:"rate_limited" doc:"Stable machine-readable detail, when there is one."`
	// Errors lists the individual items that failed, e.g. manifest items or
	// CSV rows.
	Errors []*ProblemItem `json:"errors,omitempty" doc:"Per-item errors, e.g. each invalid manifest item or CSV row."`

	headers http.Header
}

// ProblemItem is one failed item of a request.
type ProblemItem struct {
	Location string `json:"location,omitempty" example:"body.parcels[3].unit" doc:"Where in the request the item is."`
	Message  string `json:"message" doc:"What is wrong with it."`
	Code     string `json:"code,omitempty" doc:"Doorman error code of this item."`
	Index    *int   `json:"index,omitempty" doc:"Zero-based position in the submitted list."`
	Row      int    `json:"row,omitempty" doc:"One-based line number in an uploaded CSV file."`
	Value    any    `json:"value,omitempty" doc:"The offending value, when short."`
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders implements huma.HeadersError.
func (p *Problem) GetHeaders() http.Header { return p.headers }

// ContentType implements huma.ContentTypeFilter: problems are
// application/problem+json.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// newProblem returns a problem with the given status, code and detail.
func newProblem(status int, code, detail string) *Problem {
	return &Problem{
		Type:    "urn:doorman:problem:" + code,
		Title:   http.StatusText(status),
		Status:  status,
		Detail:  detail,
		Code:    code,
		headers: http.Header{},
	}
}

// withReason sets the stable reason.
func (p *Problem) withReason(reason string) *Problem { p.Reason = reason; return p }

// withHeader adds a response header.
func (p *Problem) withHeader(key, value string) *Problem { p.headers.Add(key, value); return p }

// problemf builds the problem of a domain code with a formatted detail.
func problemf(code, format string, args ...any) *Problem {
	return newProblem(codeStatus[code], code, fmt.Sprintf(format, args...))
}

// invalidField is a 422 problem about one field of the request.
func invalidField(location, format string, args ...any) *Problem {
	msg := fmt.Sprintf(format, args...)
	p := newProblem(http.StatusUnprocessableEntity, doorman.EINVALID, msg)
	p.Errors = []*ProblemItem{{Location: location, Message: msg, Code: doorman.EINVALID}}
	return p
}

// problem turns any error a handler returns into the problem sent to the
// caller. Domain errors keep their code, message and reason; anything else
// is an internal error, logged with its detail and shown as "Internal
// error.". It is the one place errors become responses.
func (s *Server) problem(ctx context.Context, op string, err error) error {
	if p, ok := err.(*Problem); ok {
		return p
	}
	code := doorman.ErrorCode(err)
	status, ok := codeStatus[code]
	if !ok {
		code, status = doorman.EINTERNAL, http.StatusInternalServerError
	}
	if code == doorman.EINTERNAL {
		if isClientGone(err) {
			s.logger.Debug("http: client went away", "op", op, "err", err)
		} else {
			s.logger.Error("http: internal error", "op", op, "err", err)
		}
		return newProblem(status, code, "Internal error.")
	}
	if doorman.ErrorReason(err) == doorman.ReasonStorageFull {
		s.logger.Error("http: the store's disk is full", "op", op, "err", err)
	}
	p := newProblem(status, code, doorman.ErrorMessage(err)).withReason(doorman.ErrorReason(err))
	for _, it := range doorman.ErrorItems(err) {
		p.Errors = append(p.Errors, &ProblemItem{Location: it.Location, Message: it.Message, Code: it.Code,
			Index: it.Index, Row: it.Row, Value: it.Value})
	}
	if after := doorman.ErrorRetryAfter(err); after > 0 {
		p.withHeader("Retry-After", seconds(after))
	}
	if code == doorman.EUNAUTHORIZED {
		p.withHeader("WWW-Authenticate", `Bearer realm="doorman"`)
	}
	return p
}

// writeProblem writes p to a plain http.ResponseWriter (outside huma).
func writeProblem(w http.ResponseWriter, p *Problem) {
	for k, vs := range p.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeProblemHuma writes p from a huma middleware.
func writeProblemHuma(ctx huma.Context, p *Problem) {
	for k, vs := range p.headers {
		for _, v := range vs {
			ctx.AppendHeader(k, v)
		}
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// humaUnreadableBody is huma's message when reading a request body fails
// (other than by timing out); huma gives it status 500.
const humaUnreadableBody = "cannot read request body"

// unreadableBody is the problem of a request body that cannot be read. The
// standard library's server fails a body read only when the client broke
// the body's framing (a malformed chunk, a body that ends before its chunk
// or Content-Length says) or dropped the connection: the client's fault,
// so 400, never 500. The handler has not run, so nothing was written.
func unreadableBody() *Problem {
	return newProblem(http.StatusBadRequest, doorman.EINVALID,
		"The request body could not be read: its chunked encoding is malformed or it ended early. Nothing was done; send the request again.")
}

// humaMessages rewrites huma's own terse messages as sentences.
var humaMessages = map[string]string{
	"validation failed":           "The request is not valid.",
	"request body is required":    "A request body is required.",
	"unexpected error occurred":   "Internal error.",
	"unable to marshal response":  "The requested response format is not available.",
	"request body too large":      "The request body is too large.",
	"request body read timeout":   "The request body took too long to arrive.",
	"unable to unmarshal request": "The request body is not valid JSON.",
}

// newHumaError replaces huma.NewError, so that everything huma itself
// answers (malformed JSON, schema violations, unknown fields, oversized
// bodies) is a Doorman problem too.
func newHumaError(status int, msg string, errs ...error) huma.StatusError {
	if status == 0 { // huma asks for an example to document the schema
		return &Problem{}
	}
	if status == http.StatusInternalServerError && msg == humaUnreadableBody {
		return unreadableBody()
	}
	code := statusCode(status)
	if m, ok := humaMessages[msg]; ok {
		msg = m
	} else {
		msg = doorman.Sentence(msg)
	}
	if status == http.StatusBadRequest && len(errs) > 0 {
		msg = "The request body is not valid JSON."
	} else if status == http.StatusUnsupportedMediaType {
		msg = "Send the request body as Content-Type: application/json."
	} else if status == http.StatusRequestEntityTooLarge {
		msg = "The request body is larger than this operation accepts (" + strings.TrimPrefix(msg, "Request body is too large limit=")
		msg = strings.TrimSuffix(msg, ".") + ")."
	}
	p := newProblem(status, code, msg)
	if status >= 500 {
		return p // never show internal detail
	}
	for _, err := range errs {
		if err == nil {
			continue
		}
		item := &ProblemItem{Message: doorman.Sentence(err.Error()), Code: code}
		if d, ok := err.(huma.ErrorDetailer); ok {
			det := d.ErrorDetail()
			item.Location, item.Message, item.Value = det.Location, doorman.Sentence(det.Message), shortValue(det.Value)
			if status == http.StatusBadRequest || status == http.StatusUnsupportedMediaType || secretLocation(det.Location) {
				item.Value = nil // the whole body, or a secret
			}
		}
		p.Errors = append(p.Errors, item)
	}
	return p
}

// secretLocation reports whether a value at location must not be echoed.
func secretLocation(location string) bool {
	l := strings.ToLower(location)
	return strings.Contains(l, "password") || strings.Contains(l, "token") || strings.Contains(l, "authorization") ||
		l == "body.code" // an enrollment code
}

// shortValue keeps v for echoing back only if it is a short scalar.
func shortValue(v any) any {
	switch x := v.(type) {
	case string:
		if len(x) <= 100 {
			return x
		}
	case bool, float64, int, int64:
		return x
	}
	return nil
}

// humaHooks installs, once per process, the two huma settings that huma
// v2.37 has only as package variables (installHumaHooks says why).
var humaHooks sync.Once

// installHumaHooks makes huma build its own errors as Doorman problems and
// match field names exactly. NewServer calls it before registering any
// operation. Both settings are process globals in huma v2.37, with no
// per-API alternative that does the same:
//
//   - huma.NewError builds every error huma itself answers (malformed JSON,
//     schema violations, oversized or unreadable bodies), and huma documents
//     each operation's error responses from its zero value. A per-API
//     Config.Transformers entry could rewrite the bodies, but it runs after
//     huma has chosen the status, so it could not turn huma's 500 for an
//     unreadable body into a 400, and the document would still describe
//     huma's ErrorModel instead of Problem.
//   - huma.ValidateStrictCasing is read directly by huma's validator; no
//     Config field or registry option sets it. Without it {"Name": …} is
//     accepted as "name", and encoding/json would fold the case silently.
//
// Both are stateless and every Server wants the same values, so setting them
// once is safe; the sync.Once keeps servers made concurrently (in tests)
// from racing on them. Another huma API in the same process would see them
// too.
func installHumaHooks() {
	humaHooks.Do(func() {
		huma.NewError = newHumaError
		huma.ValidateStrictCasing = true
	})
}
