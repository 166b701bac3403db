package app

import (
	"encoding/base32"
	"testing"
	"time"
)

// TestTOTPCodes checks the codes against RFC 6238 appendix B (SHA-1, the
// last 6 of its 8 digits) and the window of steps taken.
func TestTOTPCodes(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for _, c := range []struct {
		unix int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		at := time.Unix(c.unix, 0)
		step, ok := totpMatch(secret, c.code, at)
		if !ok || step != c.unix/30 {
			t.Errorf("code %s at %d: step %d, %v", c.code, c.unix, step, ok)
		}
		next, later := time.Unix((c.unix/30+1)*30, 0), time.Unix((c.unix/30+2)*30, 0)
		if _, ok := totpMatch(secret, c.code, next); !ok {
			t.Errorf("code %s refused in the next step (one step of skew is allowed)", c.code)
		}
		if _, ok := totpMatch(secret, c.code, later); ok {
			t.Errorf("code %s taken two steps later", c.code)
		}
	}
	for _, bad := range []string{"", "28708", "2870820", "abcdef"} {
		if _, ok := totpMatch(secret, bad, time.Unix(59, 0)); ok {
			t.Errorf("code %q taken", bad)
		}
	}
	if got := normalizeTOTPCode(" 287 082 "); got != "287082" {
		t.Errorf("normalize: %q", got)
	}
}
