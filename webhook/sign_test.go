package webhook_test

import (
	"strings"
	"testing"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/webhook"
)

// The Standard Webhooks specification's published test vector.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignatureVector(t *testing.T) {
	got, err := webhook.Signature(vectorSecret, vectorID, vectorTimestamp, []byte(vectorBody))
	if err != nil || got != vectorSignature {
		t.Fatalf("Signature = %q, %v; want %q", got, err, vectorSignature)
	}
	// Any change of id, timestamp or body changes the signature.
	for _, c := range []struct {
		id   string
		ts   int64
		body string
	}{{vectorID + "x", vectorTimestamp, vectorBody}, {vectorID, vectorTimestamp + 1, vectorBody}, {vectorID, vectorTimestamp, vectorBody + " "}} {
		if s, _ := webhook.Signature(vectorSecret, c.id, c.ts, []byte(c.body)); s == vectorSignature {
			t.Errorf("Signature(%q, %d, %q) is the vector's", c.id, c.ts, c.body)
		}
	}
}

func TestSignBothSecrets(t *testing.T) {
	other := webhook.NewSecret()
	h, err := webhook.Sign([]string{vectorSecret, other}, vectorID, vectorTimestamp, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, " ")
	if len(parts) != 2 || parts[0] != vectorSignature || !strings.HasPrefix(parts[1], "v1,") || parts[1] == vectorSignature {
		t.Fatalf("Sign = %q", h)
	}
}

func TestSecrets(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, doorman.WebhookSecretPrefix) {
		t.Fatalf("NewSecret = %q, %q", a, b)
	}
	key, err := webhook.SecretKey(a)
	if err != nil || len(key) != 32 {
		t.Fatalf("SecretKey(%q) = %d bytes, %v", a, len(key), err)
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="} {
		if _, err := webhook.SecretKey(bad); doorman.ErrorCode(err) != doorman.EINVALID {
			t.Errorf("SecretKey(%q) = %v, want EINVALID", bad, err)
		}
	}
}
