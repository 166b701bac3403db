package http

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
)

// IdempotencyStore keeps idempotent answers (doorman.AuthStore has these
// methods).
type IdempotencyStore interface {
	BeginIdempotent(ctx context.Context, scope, key, requestHash string) (*doorman.IdempotentResponse, error)
	FinishIdempotent(ctx context.Context, scope, key string, status int, body []byte) error
}

// maxIdempotencyKeyLen bounds the Idempotency-Key header.
const maxIdempotencyKeyLen = 255

// idempotent is the huma middleware of authenticated POSTs. With an
// Idempotency-Key header it claims the key (scoped to the caller's
// credential and the path) before the handler runs and stores the answer after, so that a
// retry with the same key and request gets the same answer replayed,
// another request under the same key is refused (422), and a retry while
// the first is still running is refused (409). Without the header the
// request runs as usual.
func (s *Server) idempotent(ctx huma.Context, next func(huma.Context)) {
	key := ctx.Header("Idempotency-Key")
	p := doorman.PrincipalFromContext(ctx.Context())
	if key == "" || p == nil {
		next(ctx)
		return
	}
	if len(key) > maxIdempotencyKeyLen || !printable(key) {
		writeProblemHuma(ctx, invalidField("header.Idempotency-Key", "Idempotency-Key must be 1 to %d printable ASCII characters.", maxIdempotencyKeyLen))
		return
	}
	op := ctx.Operation()
	body, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), op.MaxBodyBytes+1))
	if err != nil {
		writeProblemHuma(ctx, newProblem(http.StatusBadRequest, doorman.EINVALID, "The request body could not be read."))
		return
	}
	if int64(len(body)) > op.MaxBodyBytes {
		writeProblemHuma(ctx, newHumaError(http.StatusRequestEntityTooLarge, "request body is too large limit="+strconv.FormatInt(op.MaxBodyBytes, 10)+" bytes").(*Problem))
		return
	}

	// Keys are namespaced per credential and per concrete path: a key sent
	// to another carrier's path lands in the caller's own namespace, next
	// to nothing, and the handler then refuses the path. Nobody learns which
	// keys someone else used. Answers are stored sealed with a key derived
	// from the caller's bearer token (see answerSeal), so the tokens and
	// codes some answers carry are not readable from the database.
	u := ctx.URL()
	scope := p.Actor() + ":" + p.CredentialID + " " + op.Method + " " + u.Path
	seal, err := answerSeal(ctx.Header("Authorization"))
	if err != nil {
		writeProblemHuma(ctx, s.problem(ctx.Context(), op.OperationID, err).(*Problem))
		return
	}
	hash := requestHash(op.Method, u.Path, u.RawQuery, body)
	stored, err := s.idem.BeginIdempotent(ctx.Context(), scope, key, hash)
	switch {
	case doorman.ErrorCode(err) == doorman.EPRECONDITION:
		writeProblemHuma(ctx, problemf(doorman.EPRECONDITION, "This Idempotency-Key was already used with a different request."))
		return
	case err != nil:
		writeProblemHuma(ctx, s.problem(ctx.Context(), op.OperationID, err).(*Problem))
		return
	case stored != nil && !stored.Done:
		writeProblemHuma(ctx, problemf(doorman.ECONFLICT, "A request with this Idempotency-Key is still being processed; retry later."))
		return
	case stored != nil:
		body, err := openAnswer(seal, stored.Body)
		if err != nil {
			s.logger.Error("http: a stored idempotent answer does not open", "op", op.OperationID, "err", err)
			writeProblemHuma(ctx, newProblem(http.StatusInternalServerError, doorman.EINTERNAL, "Internal error."))
			return
		}
		stored.Body = body
		replay(ctx, stored)
		return
	}

	rec := &recordingContext{humaContext: ctx, body: body}
	finished := false
	defer func() {
		// Runs on panics too: a request that produced no answer releases
		// its key so that it can be retried.
		status, answer := rec.Status(), sealAnswer(seal, rec.out.Bytes())
		if !finished || status >= 500 || status == http.StatusTooManyRequests || status == 0 {
			status, answer = 0, nil
		}
		bg := context.WithoutCancel(ctx.Context())
		if err := s.idem.FinishIdempotent(bg, scope, key, status, answer); err != nil {
			s.logger.Error("http: storing idempotent answer", "op", op.OperationID, "err", err)
		}
	}()
	next(rec)
	finished = true
}

// replay writes a stored answer again.
func replay(ctx huma.Context, r *doorman.IdempotentResponse) {
	ct := "application/json"
	if r.Status >= 400 {
		ct = "application/problem+json"
	}
	ctx.SetHeader("Idempotent-Replayed", "true")
	if len(r.Body) > 0 {
		ctx.SetHeader("Content-Type", ct)
	}
	ctx.SetStatus(r.Status)
	_, _ = ctx.BodyWriter().Write(r.Body)
}

// requestHash identifies a request: method, path, query and body.
func requestHash(method, path, query string, body []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(method), []byte(path), []byte(query), body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// recordingContext hands the handler the body already read and keeps a
// copy of the answer it writes.
type recordingContext struct {
	humaContext
	body   []byte
	status int
	out    bytes.Buffer
}

func (c *recordingContext) BodyReader() io.Reader { return bytes.NewReader(c.body) }

func (c *recordingContext) SetStatus(code int) {
	c.status = code
	c.humaContext.SetStatus(code)
}

func (c *recordingContext) Status() int { return c.status }

func (c *recordingContext) BodyWriter() io.Writer {
	return io.MultiWriter(c.humaContext.BodyWriter(), &c.out)
}

// Unwrap gives adapters the context underneath.
func (c *recordingContext) Unwrap() huma.Context { return c.humaContext }

// humaContext lets recordingContext embed huma.Context under a name that
// does not clash with its Context method.
type humaContext = huma.Context

// answerSeal returns the AEAD stored answers of the caller are sealed
// with: AES-256-GCM under a key derived from the bearer token of the
// Authorization header. The store keeps only the token's SHA-256, so
// whoever reads the database cannot open answers that hold new API keys,
// session tokens, invitation tokens or enrollment codes; the caller, who
// retries with the same token, can.
func answerSeal(authorization string) (cipher.AEAD, error) {
	_, token, _ := strings.Cut(authorization, " ")
	key := sha256.Sum256([]byte("doorman idempotent answer v1\x00" + strings.TrimSpace(token)))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealAnswer encrypts an answer body: nonce, then ciphertext.
func sealAnswer(aead cipher.AEAD, body []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(body)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("doormanhttp: no randomness: " + err.Error())
	}
	return aead.Seal(nonce, nonce, body, nil)
}

// openAnswer decrypts what sealAnswer made.
func openAnswer(aead cipher.AEAD, sealed []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed answer too short")
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], nil)
}
