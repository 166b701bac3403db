package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP as authenticator apps know it (RFC 6238 over RFC 4226): HMAC-SHA1,
// 6 digits, 30-second steps, a 160-bit secret written in base32 without
// padding. A code of the step before or after the current one is also
// taken, for clocks a little apart.
const (
	totpPeriod = 30
	totpDigits = 6
	totpSkew   = 1
	// TOTPIssuer names Doorman in authenticator apps.
	TOTPIssuer = "Doorman"
)

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns a new random secret in base32.
func newTOTPSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return totpEncoding.EncodeToString(b)
}

// totpStep is the 30-second step t falls in.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpCode is the code of a step (RFC 4226 section 5.3).
func totpCode(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	h := hmac.New(sha1.New, secret)
	h.Write(msg[:])
	sum := h.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1000000)
}

// totpMatch returns the step whose code code is, among the steps around
// now, comparing in constant time.
func totpMatch(secret, code string, now time.Time) (int64, bool) {
	key, err := totpEncoding.DecodeString(strings.ToUpper(secret))
	if err != nil || len(code) != totpDigits {
		return 0, false
	}
	cur := totpStep(now)
	var found int64
	ok := false
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		if subtle.ConstantTimeCompare([]byte(totpCode(key, step)), []byte(code)) == 1 {
			found, ok = step, true
		}
	}
	return found, ok
}

// normalizeTOTPCode drops the spaces people type inside codes.
func normalizeTOTPCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
}

// totpURL is the otpauth:// URL authenticator apps read from a QR code.
func totpURL(secret, account string) string {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", TOTPIssuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + url.PathEscape(TOTPIssuer+":"+account) + "?" + q.Encode()
}
