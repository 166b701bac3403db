package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/doorman-dev/doorman"
)

// Header names of a Standard Webhooks call.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// NewSecret returns a new signing secret: "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	var key [32]byte
	_, _ = rand.Read(key[:]) // never fails (crypto/rand)
	return doorman.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key[:])
}

// SecretKey returns the key bytes of a "whsec_…" secret. Returns EINVALID.
func SecretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, doorman.WebhookSecretPrefix)
	if !ok {
		return nil, doorman.Errorf(doorman.EINVALID, "A webhook secret starts with %s.", doorman.WebhookSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) < 16 || len(key) > 64 {
		return nil, doorman.Errorf(doorman.EINVALID, "A webhook secret is %s and the base64 of 16 to 64 bytes.", doorman.WebhookSecretPrefix)
	}
	return key, nil
}

// Signature returns the "v1,<base64>" signature of one secret over
// "id.timestamp.body".
func Signature(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := SecretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Sign returns the webhook-signature header: the signatures of every
// secret, space separated (during a rotation's overlap there are two).
func Sign(secrets []string, id string, timestamp int64, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Signature(s, id, timestamp, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}
