// Command doorman-agent is the door device's program: it enrolls the device
// with the control plane once, then runs the agent that verifies signed
// unlock commands from the bus and pulses the strike relay.
//
//	doorman-agent enroll --server https://doorman.example --code CODE [--data-dir DIR]
//	doorman-agent run [--data-dir DIR] [--reader PATH|-] [--trust-rtc] [--offline-skew D]
//	doorman-agent wiegand frame|decode …
//
// hardware.json picks the door hardware: the simulated relay, a strike
// relay on GPIO, or the Wiegand "virtual fob" output to the building's
// access-control panel, whose frames "wiegand" prints and decodes.
//
// It links no control-plane code: no NATS server, no database driver (see
// deps_test.go). It is the only program that links the GPIO driver
// (agent/hardware opens it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/hardware"
	"github.com/doorman-dev/doorman/wire"
)

// DefaultDataDir is where the agent keeps its identity and state.
const DefaultDataDir = "/var/lib/doorman-agent"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Run runs the command line args and returns the exit code; stdin is the
// door's reader under run --reader -.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runAgent(ctx, args[1:], stdin, stderr)
	case "enroll":
		err = enroll(ctx, args[1:], stdout)
	case "wiegand":
		err = wiegandCmd(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "doorman-agent", agent.Version)
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "doorman-agent: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintln(stderr, "doorman-agent:", message(err))
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  doorman-agent enroll --server URL --code CODE [--data-dir DIR] [--force]
  doorman-agent run [--data-dir DIR] [--log-level debug|info|warn|error]
                    [--reader PATH|-] [--trust-rtc] [--offline-skew DURATION]
  doorman-agent wiegand frame [--data-dir DIR | --format 26|34 --facility FC --card N]
  doorman-agent wiegand decode BITS
  doorman-agent version

The data dir defaults to $DOORMAN_AGENT_DATA_DIR or `+DefaultDataDir+`.
Relay hardware is read from DIR/hardware.json (simulated relay when absent):
driver sim, gpio (a strike relay) or wiegand (a card presented to the
building's access-control panel; see docs/device.md). "wiegand frame" prints
the frame that driver sends, "decode" checks one captured off the lines;
neither touches a GPIO line.

--reader names the door's QR/barcode scanner (a line-oriented device such as
/dev/ttyACM0, or - for standard input): each line it reads is judged as an
offline grant, which opens the door when the control plane is unreachable
(docs/offline.md).
`)
}

// message returns a safe, readable error message.
func message(err error) string {
	var e *doorman.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

func dataDirFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("DOORMAN_AGENT_DATA_DIR")
	if def == "" {
		def = DefaultDataDir
	}
	return fs.String("data-dir", def, "directory of the device's identity and state")
}

// runAgent serves until ctx ends.
func runAgent(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := dataDirFlag(fs)
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	reader := fs.String("reader", "", "the door's QR/barcode reader: a line-oriented device path (e.g. /dev/ttyACM0), or - for standard input; none by default")
	trustRTC := fs.Bool("trust-rtc", false, "trust the device's battery-backed clock for offline grants before the first time sync since boot")
	skew := fs.Duration("offline-skew", wire.DefaultOfflineSkew, "clock error tolerated at either end of an offline grant's validity (at most "+wire.MaxOfflineSkew.String()+")")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("run takes no arguments, got %q", fs.Arg(0))
	}
	var scanner agent.Reader
	switch *reader {
	case "":
	case "-":
		scanner = agent.StreamReader{R: stdin}
	default:
		scanner = agent.DeviceReader(*reader)
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("bad --log-level %q", *level)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	hw, err := hardware.Open(*dir)
	if err != nil {
		return err
	}
	defer hw.Close()
	a, err := agent.New(agent.Config{
		DataDir: *dir, Relay: hw, Sensor: hw, Tamper: hw, Logger: log,
		Reader: scanner, TrustRTC: *trustRTC, OfflineSkew: *skew,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("doorman-agent starting", "door", a.DoorID(), "version", agent.Version)
	return a.Run(ctx)
}

// enroll claims a door for this device.
func enroll(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	dir := dataDirFlag(fs)
	server := fs.String("server", os.Getenv("DOORMAN_SERVER"), "control plane URL (https)")
	code := fs.String("code", "", "one-time enrollment code from the building manager")
	force := fs.Bool("force", false, "replace an existing enrollment")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *code == "" {
		return errors.New("enroll needs --server and --code")
	}
	id, err := agent.Enroll(ctx, agent.EnrollOptions{Server: *server, Code: *code, DataDir: *dir, Force: *force})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Enrolled as %s for door %s. Start the agent with: doorman-agent run --data-dir %s\n", id.DeviceID, id.DoorID, *dir)
	return nil
}
