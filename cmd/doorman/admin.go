package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/keyring"
)

// runAdmin runs operator tasks against the store directly, for when there is
// no operator credential yet or it was lost.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "keys" {
		return runAdminKeys(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create-operator-token" {
		fmt.Fprintln(stderr, "usage: doorman admin create-operator-token [--name NAME] [--data-dir DIR | --db DSN]")
		fmt.Fprintln(stderr, "       doorman admin keys list|rotate|activate|revoke (see doorman admin keys)")
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("admin create-operator-token", flag.ContinueOnError)
	name := fs.String("name", "admin", "a name to tell this credential apart")
	store, err := openStoreWithFlags(ctx, fs, args[1:], stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	token, _, err := app.New(store, app.Config{}).Credentials.CreateOperatorToken(systemContext(ctx), *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Operator token (shown once, keep it secret):\n%s\n", token)
	return nil
}

// systemContext is ctx with Doorman itself as the caller: the CLI working
// on the store directly, and the demo seeding its building.
func systemContext(ctx context.Context) context.Context {
	return doorman.NewContextWithPrincipal(ctx, doorman.System())
}

// runAudit verifies the audit log's hash chains and, against the signed
// checkpoints, its history, and fails if any chain is broken.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: doorman audit verify [--data-dir DIR | --db DSN] [--checkpoints DIR] [--checkpoint-key FILE | --checkpoint-vkey KEY | --chains-only]")
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	dirFlag := fs.String("checkpoints", "", "directory of checkpoint files to verify against; empty uses "+CheckpointDirName+" in --data-dir")
	keyFlag := fs.String("checkpoint-key", "", "audit checkpoint key file; empty uses "+AuditKeyName+" in --data-dir")
	vkeyFlag := fs.String("checkpoint-vkey", "", "audit checkpoint verifier key (name+hash+key), instead of the key file")
	chainsOnly := fs.Bool("chains-only", false, "with no checkpoint key at hand, check the hash chains alone and exit 0 if they hold (they do not stop whoever can write the database)")
	cfg := DefaultConfig()
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	checkpoints, err := auditCheckpoints(ctx, store, &cfg, *dirFlag, *keyFlag, *vkeyFlag)
	if err != nil {
		return err
	}
	if checkpoints == nil && !*chainsOnly {
		// No key file and none registered: a store whose audit_keys were
		// emptied must not pass as one that never had checkpoints.
		return fmt.Errorf("no audit checkpoint key: %s does not exist and the store names none, so the log cannot be "+
			"checked against its checkpoints; give --checkpoint-key or --checkpoint-vkey (the deployment's key is in "+
			"its data dir), or --chains-only to check the hash chains alone", cfg.AuditKeyPath())
	} else if checkpoints == nil {
		fmt.Fprintln(stdout, "no audit checkpoint key: checking the hash chains only (--chains-only)")
	} else if files, _ := filepath.Glob(filepath.Join(checkpoints.Dir, "*.log")); len(files) == 0 {
		// The database's copies are checked, but the database can delete
		// them: say so rather than pass quietly.
		fmt.Fprintf(stdout, "no checkpoint files in %s: checking against the database's copies of the checkpoints only\n", checkpoints.Dir)
	} else {
		fmt.Fprintf(stdout, "checking against %d checkpoint files in %s\n", len(files), checkpoints.Dir)
	}
	breaks, err := app.New(store, app.Config{AuditCheckpoints: checkpoints}).Audit.Verify(systemContext(ctx))
	if err != nil {
		return err
	}
	if len(breaks) == 0 {
		if checkpoints != nil {
			fmt.Fprintln(stdout, "audit log intact: every chain verifies, and matches its signed checkpoints")
		} else {
			fmt.Fprintln(stdout, "audit log intact: every chain verifies")
		}
		return nil
	}
	for _, b := range breaks {
		fmt.Fprintf(stdout, "chain %s broken at seq %d", b.Chain, b.Seq)
		if b.EntryID != "" {
			fmt.Fprintf(stdout, " (entry %s)", b.EntryID)
		}
		fmt.Fprintf(stdout, ": %s\n", b.Problem)
	}
	return errors.New("audit log does not verify")
}

// auditCheckpoints returns the checkpoints to verify against: the files
// in dir (default: the data dir's) with the verifier key given, or that of
// the key file (default: the data dir's). Without a key it returns nil
// for a deployment that never signed checkpoints, and an error for one
// that did, so that a missing key file never passes for an intact log.
func auditCheckpoints(ctx context.Context, store doorman.Store, cfg *Config, dir, keyFile, vkey string) (*app.AuditCheckpoints, error) {
	if dir == "" {
		dir = cfg.CheckpointDir()
	}
	if vkey != "" {
		v, err := keyring.AuditVerifier(vkey)
		if err != nil {
			return nil, err
		}
		return &app.AuditCheckpoints{Dir: dir, Verifier: v}, nil
	}
	if keyFile == "" {
		keyFile = cfg.AuditKeyPath()
	}
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		registered, err := store.AuditKeys(ctx)
		if err != nil {
			return nil, err
		}
		if len(registered) > 0 {
			return nil, fmt.Errorf("this deployment signs audit checkpoints with key %s, and %s does not exist: "+
				"give --checkpoint-key or --checkpoint-vkey", registered[0], keyFile)
		}
		return nil, nil
	}
	k, err := keyring.LoadOrCreateAuditKey(keyFile)
	if err != nil {
		return nil, err
	}
	return &app.AuditCheckpoints{Dir: dir, Verifier: k.Verifier}, nil
}

// openStoreWithFlags adds the store flags to fs, parses args and opens the
// store they name, for the commands that work on the store directly.
func openStoreWithFlags(ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer) (doorman.Store, error) {
	cfg := DefaultConfig()
	fs.SetOutput(stderr)
	cfg.storeFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return cfg.OpenStore(ctx)
}
