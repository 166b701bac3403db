package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/doorman-dev/doorman/webhook"
)

// BEGIN receiver

// verifyWebhook checks a Doorman webhook call: nil if one of the
// signatures in webhook-signature is the secret's over "id.timestamp.body"
// and the timestamp is within 5 minutes of now. Then drop the call if you
// have already handled its webhook-id.
func verifyWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad webhook-timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("webhook-timestamp too far from now")
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.", id, ts)
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

// END receiver

// TestReceiverExample runs the Go receiver of docs/notifications-webhooks.md:
// on the spec's vector, on calls the sender made during a rotation, and on
// tampered, stale and wrongly signed calls.
func TestReceiverExample(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp))
	h.Set("webhook-signature", vectorSignature)
	at := time.Unix(vectorTimestamp, 0)
	if err := verifyWebhook(vectorSecret, h, []byte(vectorBody), at); err != nil {
		t.Fatalf("the vector: %v", err)
	}
	if verifyWebhook(vectorSecret, h, []byte(vectorBody+" "), at) == nil {
		t.Fatal("a tampered body verified")
	}
	if verifyWebhook(vectorSecret, h, []byte(vectorBody), at.Add(6*time.Minute)) == nil {
		t.Fatal("a stale call verified")
	}
	if verifyWebhook(webhook.NewSecret(), h, []byte(vectorBody), at) == nil {
		t.Fatal("another secret verified")
	}

	r := newReceiver(t, false)
	old, next := webhook.NewSecret(), webhook.NewSecret()
	ep := endpoint(r.URL)
	until := time.Now().Add(time.Hour)
	ep.Secret, ep.PreviousSecret, ep.PreviousUntil = next, old, &until
	if err := webhook.NewSender(newMemStore(ep), loopback, 0, nil, nil).Send(context.Background(), message(ep)); err != nil {
		t.Fatal(err)
	}
	c := r.got()[0]
	got := http.Header{}
	for k, v := range c.Headers {
		got.Set(k, v)
	}
	for _, s := range []string{old, next} {
		if err := verifyWebhook(s, got, []byte(c.Body), time.Now()); err != nil {
			t.Fatalf("a call during a rotation: %v", err)
		}
	}
}

// TestDocExamples: the receivers shown in docs/notifications-webhooks.md
// are the ones these tests run.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/notifications-webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	goSrc, err := os.ReadFile("verify_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(goSrc), "// BEGIN "+"receiver\n\n")
	goExample, _, _ := strings.Cut(rest, "\n// END "+"receiver")
	jsSrc, err := os.ReadFile("testdata/verify.js")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ = strings.Cut(string(jsSrc), "\n// verify is")
	jsExample, _, _ := strings.Cut("// verify is"+rest, "\nlet input")
	for name, ex := range map[string]string{"Go": goExample, "JavaScript": jsExample} {
		if len(ex) < 200 || !strings.Contains(string(doc), strings.TrimSpace(ex)) {
			t.Errorf("the doc does not show the %s receiver the tests run:\n%s", name, ex)
		}
	}
}
