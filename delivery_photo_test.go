package doorman_test

import (
	"net/http"
	"testing"

	"github.com/doorman-dev/doorman"
)

// TestSniffDeliveryPhoto: the type comes from the bytes, agreeing with
// net/http's sniffing for what is taken; everything else is EINVALID.
func TestSniffDeliveryPhoto(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"},
		{"webp", "RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"},
		{"html", "<!doctype html><script>alert(1)</script>", ""},
		{"svg", `<svg xmlns="http://www.w3.org/2000/svg"></svg>`, ""},
		{"gif", "GIF89a\x01\x00\x01\x00", ""},
		{"riff not webp", "RIFF\x24\x00\x00\x00WAVEfmt ", ""},
		{"empty", "", ""},
	} {
		got, err := doorman.SniffDeliveryPhoto([]byte(c.data))
		if c.want == "" {
			if doorman.ErrorCode(err) != doorman.EINVALID {
				t.Errorf("%s: %q, %v; want EINVALID", c.name, got, err)
			}
			continue
		}
		if err != nil || got != c.want || http.DetectContentType([]byte(c.data)) != c.want {
			t.Errorf("%s: %q, %v; want %s", c.name, got, err, c.want)
		}
	}
	big := make([]byte, doorman.MaxDeliveryPhotoBytes+1)
	copy(big, "\x89PNG\r\n\x1a\n")
	if _, err := doorman.SniffDeliveryPhoto(big); doorman.ErrorCode(err) != doorman.EINVALID {
		t.Errorf("too big: %v", err)
	}
	if _, err := doorman.SniffDeliveryPhoto(big[:doorman.MaxDeliveryPhotoBytes]); err != nil {
		t.Errorf("exactly the limit: %v", err)
	}
}
