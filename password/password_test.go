package password_test

import (
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/password"
)

// fast keeps the tests quick; the format and logic do not depend on cost.
var fast = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := password.HashWith("correct horse battery staple", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %q", h)
	}
	if ok, err := password.Verify(h, "correct horse battery staple"); err != nil || !ok {
		t.Fatalf("Verify(right) = %v, %v", ok, err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "correct horse battery staple ", "Correct horse battery staple"} {
		if ok, err := password.Verify(h, wrong); err != nil || ok {
			t.Fatalf("Verify(%q) = %v, %v; want false", wrong, ok, err)
		}
	}
}

func TestHashSalted(t *testing.T) {
	a, _ := password.HashWith("same", fast)
	b, _ := password.HashWith("same", fast)
	if a == b {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestDefaultParams(t *testing.T) {
	h, err := password.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected default parameters: %q", h)
	}
	if password.NeedsRehash(h, password.Default) {
		t.Fatal("fresh default hash needs rehash")
	}
	if !password.NeedsRehash(h, fast) {
		t.Fatal("hash with other parameters does not need rehash")
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := password.HashWith("pw", fast)
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu5Jx1c8o8Q0pYt1H3iZq7mZ8Q3lN6ve",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"old version":    strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(good, "m=64", "m=99999999", 1),
		"zero time":      strings.Replace(good, "t=1", "t=0", 1),
		"many threads":   strings.Replace(good, "p=1", "p=255", 1),
		"bad salt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short key":      strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"missing fields": "$argon2id$v=19$m=64,t=1,p=1$",
	} {
		if ok, err := password.Verify(h, "pw"); err == nil || ok {
			t.Errorf("%s: Verify = %v, %v; want ErrMalformed", name, ok, err)
		}
	}
}
