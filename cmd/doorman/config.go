package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/postgres"
	"github.com/doorman-dev/doorman/sqlite"
)

// Config is the control plane's configuration, filled once from flags and
// DOORMAN_* environment variables and copied into the components.
type Config struct {
	DataDir   string // holds the SQLite file, bus keys and state
	HTTPAddr  string // API listen address
	DB        string // PostgreSQL DSN; empty means SQLite in DataDir
	LogFormat string // "text" or "json"
	LogLevel  string // "debug", "info", "warn", "error"
}

// DefaultConfig returns the configuration of a single machine install.
func DefaultConfig() Config {
	return Config{DataDir: "./doorman-data", HTTPAddr: "127.0.0.1:8080", LogFormat: "text", LogLevel: "info"}
}

// storeFlags registers the flags that locate the store.
func (c *Config) storeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the SQLite database and other state")
	fs.StringVar(&c.DB, "db", c.DB, "PostgreSQL DSN (postgres://…); empty uses SQLite in --data-dir")
}

// logFlags registers the logging flags.
func (c *Config) logFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn or error")
}

// parseFlags parses args after applying DOORMAN_* environment variables as
// defaults, so that a flag on the command line wins over the environment.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "DOORMAN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}

// Logger returns the logger the configuration asks for.
func (c *Config) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", c.LogFormat)
}

// OpenStore opens the store the configuration names: PostgreSQL when DB is
// set, otherwise SQLite in DataDir (created if missing).
func (c *Config) OpenStore(ctx context.Context) (doorman.Store, error) {
	if c.DB != "" {
		if !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
			return nil, fmt.Errorf("--db must be a postgres:// DSN (leave it empty for SQLite)")
		}
		return postgres.Open(ctx, c.DB)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(c.DataDir, "doorman.db"))
}
