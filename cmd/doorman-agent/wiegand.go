package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/doorman-dev/doorman/agent/hardware"
	"github.com/doorman-dev/doorman/agent/relay/wiegand"
)

// wiegandCmd runs the Wiegand diagnostics: "frame" prints the frame the
// wiegand driver sends (for the credential of hardware.json, or one given
// by flags), "decode" decodes and parity-checks a frame captured off the
// lines. Neither touches a GPIO line.
func wiegandCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("wiegand: frame or decode? (see doorman-agent help)")
	}
	switch args[0] {
	case "frame":
		return wiegandFrame(args[1:], stdout, stderr)
	case "decode":
		if len(args) < 2 {
			return errors.New("wiegand decode: give the frame's bits, e.g. 10000000100000000000000010")
		}
		f, err := wiegand.ParseFrame(strings.Join(args[1:], ""))
		if err != nil {
			return err
		}
		c, err := wiegand.Decode(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (parity good)\n", c)
		return nil
	}
	return fmt.Errorf("wiegand: unknown command %q (frame or decode)", args[0])
}

// wiegandFrame prints a credential's frame and timing.
func wiegandFrame(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wiegand frame", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := dataDirFlag(fs)
	format := fs.Int("format", 0, "26 or 34 (with --facility and --card: instead of hardware.json)")
	facility := fs.Int64("facility", -1, "facility code")
	card := fs.Int64("card", -1, "card number")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := wiegand.Config{Format: wiegand.Format(*format), Facility: *facility, Card: *card}
	if *format == 0 {
		hw, err := hardware.ReadConfig(*dir)
		if err != nil {
			return err
		}
		if hw.Driver != hardware.DriverWiegand {
			return fmt.Errorf("wiegand frame: hardware.json in %s selects driver %q, not wiegand (or give --format, --facility and --card)", *dir, hw.Driver)
		}
		if err := hw.Wiegand.Validate(); err != nil {
			return err
		}
		cfg = hw.Wiegand.Config
	}
	cred, err := cfg.Credential()
	if err != nil {
		return err
	}
	pulse, interval, err := cfg.Timing()
	if err != nil {
		return err
	}
	f, err := wiegand.Encode(cred)
	if err != nil {
		return err
	}
	var v uint64
	for _, bit := range f {
		v <<= 1
		if bit {
			v |= 1
		}
	}
	fmt.Fprintf(stdout, "%s\nframe %s (0x%X)\n%d pulses of %s, one every %s: D0 low for a 0, D1 low for a 1, lines idle high\n",
		cred, f, v, len(f), pulse, interval)
	return nil
}
