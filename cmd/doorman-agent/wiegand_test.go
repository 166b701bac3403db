package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWiegandFrame(t *testing.T) {
	dir := t.TempDir()
	hw := `{"driver":"wiegand","wiegand":{"chip":"gpiochip0","d0_line":23,"d1_line":24,"format":26,"facility":1,"card":1}}`
	if err := os.WriteFile(filepath.Join(dir, "hardware.json"), []byte(hw), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"hardware.json": {[]string{"wiegand", "frame", "--data-dir", dir},
			"26-bit FC 1 card 1\nframe 10000000100000000000000010 (0x2020002)\n26 pulses of 50µs, one every 2ms"},
		"flags": {[]string{"wiegand", "frame", "--format", "34", "--facility", "4660", "--card", "43981", "--data-dir", t.TempDir()},
			"34-bit FC 4660 card 43981\nframe 1000100100011010010101011110011011 "},
		"decode": {[]string{"wiegand", "decode", "1 00000001 0000000000000001 0"}, "26-bit FC 1 card 1 (parity good)"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Run(context.Background(), tc.args, nil, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Fatalf("output %q lacks %q", out.String(), tc.want)
			}
		})
	}
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"bad parity":    {[]string{"wiegand", "decode", "00000000100000000000000010"}, "leading (even) parity bit wrong"},
		"not bits":      {[]string{"wiegand", "decode", "10x"}, "not 0 or 1"},
		"out of range":  {[]string{"wiegand", "frame", "--format", "26", "--facility", "256", "--card", "1"}, "facility code 256 out of range"},
		"no card":       {[]string{"wiegand", "frame", "--format", "26", "--facility", "1"}, "card number required"},
		"not wiegand":   {[]string{"wiegand", "frame", "--data-dir", t.TempDir()}, `selects driver "sim", not wiegand`},
		"no subcommand": {[]string{"wiegand"}, "frame or decode"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Run(context.Background(), tc.args, nil, &out, &errOut); code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Fatalf("error %q lacks %q", errOut.String(), tc.want)
			}
		})
	}
}
