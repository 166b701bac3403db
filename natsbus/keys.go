package natsbus

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman/internal/durable"
)

// File names of the bus's auth state in the data dir. Both are 0600.
const (
	keysFile        = "bus-keys.json"
	revocationsFile = "revocations.json"
)

// authKeys are the NKeys of the embedded server's trust chain: the operator
// signs the accounts; the Doorman account's signing key issues user JWTs
// (devices and the control plane's own service user). The system account
// has no users.
type authKeys struct {
	operator       nkeys.KeyPair
	systemAccount  nkeys.KeyPair
	account        nkeys.KeyPair
	accountSigning nkeys.KeyPair
}

// authKeysFile is the stored form of authKeys.
type authKeysFile struct {
	Operator       string `json:"operator_seed"`
	SystemAccount  string `json:"system_account_seed"`
	Account        string `json:"account_seed"`
	AccountSigning string `json:"account_signing_seed"`
}

// loadOrCreateKeys reads the auth keys from dir, creating them on first
// start. It refuses a key file that others can read.
func loadOrCreateKeys(dir string) (*authKeys, error) {
	path := filepath.Join(dir, keysFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return createKeys(path)
	} else if err != nil {
		return nil, fmt.Errorf("natsbus: read %s: %w", path, err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	var f authKeysFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("natsbus: %s: %w", path, err)
	}
	k := &authKeys{}
	for _, s := range []struct {
		seed   string
		prefix nkeys.PrefixByte
		dst    *nkeys.KeyPair
	}{
		{f.Operator, nkeys.PrefixByteOperator, &k.operator},
		{f.SystemAccount, nkeys.PrefixByteAccount, &k.systemAccount},
		{f.Account, nkeys.PrefixByteAccount, &k.account},
		{f.AccountSigning, nkeys.PrefixByteAccount, &k.accountSigning},
	} {
		kp, err := nkeys.FromSeed([]byte(s.seed))
		if err != nil {
			return nil, fmt.Errorf("natsbus: %s: bad seed", path)
		}
		if pub, _ := kp.PublicKey(); nkeys.Prefix(pub) != s.prefix {
			return nil, fmt.Errorf("natsbus: %s: seed of the wrong kind", path)
		}
		*s.dst = kp
	}
	return k, nil
}

func createKeys(path string) (*authKeys, error) {
	op, err1 := nkeys.CreateOperator()
	sys, err2 := nkeys.CreateAccount()
	acc, err3 := nkeys.CreateAccount()
	sk, err4 := nkeys.CreateAccount()
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return nil, fmt.Errorf("natsbus: cannot create keys")
	}
	seed := func(kp nkeys.KeyPair) string { s, _ := kp.Seed(); return string(s) }
	data, err := json.MarshalIndent(authKeysFile{
		Operator: seed(op), SystemAccount: seed(sys), Account: seed(acc), AccountSigning: seed(sk),
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := durable.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("natsbus: write %s: %w", path, err)
	}
	return &authKeys{operator: op, systemAccount: sys, account: acc, accountSigning: sk}, nil
}

// checkPrivate returns an error if path is readable by group or others.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("natsbus: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("natsbus: %s is accessible by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	return nil
}

// loadRevocations reads the revoked device keys (public key to Unix time).
func loadRevocations(dir string) (map[string]int64, error) {
	path := filepath.Join(dir, revocationsFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]int64{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("natsbus: read %s: %w", path, err)
	}
	revs := map[string]int64{}
	if err := json.Unmarshal(data, &revs); err != nil {
		return nil, fmt.Errorf("natsbus: %s: %w", path, err)
	}
	return revs, nil
}

// saveRevocations durably writes the revoked device keys.
func saveRevocations(dir string, revs map[string]int64) error {
	data, err := json.MarshalIndent(revs, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(dir, revocationsFile), data, 0o600)
}
