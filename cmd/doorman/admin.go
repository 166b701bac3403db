package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/app"
)

// runAdmin runs operator tasks against the store directly, for when there is
// no operator credential yet or it was lost.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create-operator-token" {
		fmt.Fprintln(stderr, "usage: doorman admin create-operator-token [--name NAME] [--data-dir DIR | --db DSN]")
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

// runAudit verifies the audit log's hash chains and fails if any is broken.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: doorman audit verify [--data-dir DIR | --db DSN]")
		return flag.ErrHelp
	}
	store, err := openStoreWithFlags(ctx, flag.NewFlagSet("audit verify", flag.ContinueOnError), args[1:], stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	breaks, err := app.New(store, app.Config{}).Audit.Verify(systemContext(ctx))
	if err != nil {
		return err
	}
	if len(breaks) == 0 {
		fmt.Fprintln(stdout, "audit log intact: every chain verifies")
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
