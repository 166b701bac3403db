package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
	"github.com/doorman-dev/doorman/keyring"
)

const keysUsage = `usage: doorman admin keys list|rotate|activate|revoke [flags]
  list                                   the command keys, their statuses and whether this node holds their files
  rotate [--overlap 24h] [--grace 5m]    create a key (a file next to the command key file), announce it, sign with it after the overlap
  activate KID [--grace 5m]              sign with the waiting key KID now
  revoke KID                             refuse KID at once (a compromised key)
common flags: [--data-dir DIR | --db DSN] [--command-key FILE]`

// runAdminKeys is "doorman admin keys": a thin adapter over
// app.CommandKeys, working on the store and this node's key files. Running
// nodes pick the change up within KeyRefreshInterval and announce it to
// the doors; keys rotated in here must be copied to every other node.
func runAdminKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, keysUsage)
		return flag.ErrHelp
	}
	verb := args[0]
	fs := flag.NewFlagSet("admin keys "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	overlap := app.DefaultKeyOverlap
	grace := app.DefaultKeyGrace
	switch verb {
	case "list", "revoke":
	case "rotate":
		fs.DurationVar(&overlap, "overlap", overlap, "how long devices are told of the new key before it signs (0: at once)")
		fs.DurationVar(&grace, "grace", grace, "how long after the switch devices still accept the old key")
	case "activate":
		fs.DurationVar(&grace, "grace", grace, "how long devices still accept the key it replaces")
	default:
		fmt.Fprintln(stderr, keysUsage)
		return flag.ErrHelp
	}
	cfg := DefaultConfig()
	cfg.storeFlags(fs)
	fs.StringVar(&cfg.CommandKeyFile, "command-key", cfg.CommandKeyFile, "command signing key file; empty uses "+CommandKeyName+" in --data-dir")
	// The key ID may come before or after the flags.
	rest := args[1:]
	var kid string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		kid, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if kid == "" && fs.NArg() > 0 {
		kid = fs.Arg(0)
	}
	if (verb == "activate" || verb == "revoke") && kid == "" {
		fmt.Fprintln(stderr, keysUsage)
		return flag.ErrHelp
	}
	store, err := cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if keys, err := store.CommandKeys(ctx); err != nil {
		return err
	} else if len(keys) == 0 {
		return errors.New("this deployment has no command key yet: start doorman serve once, which creates it")
	}
	ring, err := keyring.Open(ctx, store, cfg.CommandKeyPath(), CommandKeyName)
	if err != nil {
		return err
	}
	svc := app.NewCommandKeys(ring, store, nil, nil)
	ctx = systemContext(ctx)
	var info *app.CommandKeyInfo
	switch verb {
	case "list":
		seq, infos, err := svc.List(ctx)
		if err != nil {
			return err
		}
		printKeys(stdout, seq, infos, ring.Now())
		return nil
	case "rotate":
		info, err = svc.Rotate(ctx, overlap, grace)
	case "activate":
		info, err = svc.Activate(ctx, kid, grace)
	case "revoke":
		info, err = svc.Revoke(ctx, kid)
	}
	if err != nil {
		return errors.New(doorman.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "%s %s: %s\n", verb, info.KeyID, info.Status)
	if verb == "rotate" {
		fmt.Fprintf(stdout, "key file: %s\nit signs from %s: copy the key file to every other control-plane node (next to its %s) before then.\n",
			keyring.KeyFile(cfg.CommandKeyPath(), info.KeyID), info.ActivatesAt.Format(time.RFC3339), CommandKeyName)
	}
	fmt.Fprintf(stdout, "running nodes announce the change to the doors within %s.\n", KeyRefreshInterval)
	return nil
}

// printKeys writes the key list as a table.
func printKeys(w io.Writer, seq int64, infos []app.CommandKeyInfo, now time.Time) {
	fmt.Fprintf(w, "key set %d at %s\n", seq, now.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tSTATUS\tACTIVATES\tRETIRES\tREVOKED\tFILE HERE")
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, i := range infos {
		held := "no"
		if i.Held {
			held = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", i.KeyID, i.Status, at(i.ActivatesAt), at(i.RetiresAt), at(i.RevokedAt), held)
	}
	tw.Flush()
}
