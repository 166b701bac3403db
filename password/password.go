package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Default follows the OWASP recommendation for argon2id: 19 MiB, two
// passes, one thread.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters read back from a stored hash, so that a corrupted or
// planted hash cannot make one verification eat the machine.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 16
	maxThreads = 16
	maxKeyLen  = 128
	minKeyLen  = 16
	minSaltLen = 8
	maxSaltLen = 64
)

// ErrMalformed is returned by Verify for a string that is not an argon2id
// PHC hash within the accepted parameter limits.
var ErrMalformed = errors.New("password: malformed argon2id hash")

var b64 = base64.RawStdEncoding

// slots bounds how many argon2id computations run at once, so that a flood
// of logins or invitation acceptances (each ~19 MiB) queues for the CPU
// instead of exhausting memory.
var slots = make(chan struct{}, runtime.GOMAXPROCS(0))

// idKey runs argon2id in one of the slots.
func idKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	slots <- struct{}{}
	defer func() { <-slots }()
	return argon2.IDKey(password, salt, time, memory, threads, keyLen)
}

// Hash returns the PHC string of password under the Default parameters.
func Hash(password string) (string, error) {
	return HashWith(password, Default)
}

// HashWith returns the PHC string of password under p.
func HashWith(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: no randomness: %w", err)
	}
	key := idKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC hash. The comparison
// takes the same time wherever the first differing byte is. It returns
// ErrMalformed for a hash it cannot read.
func Verify(hash, password string) (bool, error) {
	p, salt, key, err := decode(hash)
	if err != nil {
		return false, err
	}
	got := idKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether hash was made with parameters other than p,
// so that a caller can upgrade it after a successful login.
func NeedsRehash(hash string, p Params) bool {
	got, salt, key, err := decode(hash)
	return err != nil || got.Memory != p.Memory || got.Time != p.Time ||
		got.Threads != p.Threads || uint32(len(salt)) != p.SaltLen || uint32(len(key)) != p.KeyLen
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$salt$key".
func decode(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return p, nil, nil, ErrMalformed
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > maxTime || threads == 0 || threads > maxThreads {
		return p, nil, nil, ErrMalformed
	}
	p.Threads = uint8(threads)
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
