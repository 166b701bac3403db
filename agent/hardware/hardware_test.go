package hardware_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/hardware"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/agent/relay/gpio"
	"github.com/doorman-dev/doorman/agent/relay/wiegand"
)

// writeHardware writes hardware.json into a new data dir with the given
// mode and returns the dir.
func writeHardware(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, agent.HardwareFile)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return dir
}

func TestOpen_Sim(t *testing.T) {
	for name, dir := range map[string]string{
		"absent":       t.TempDir(),
		"sim":          writeHardware(t, `{"driver":"sim"}`, 0o600),
		"empty driver": writeHardware(t, `{}`, 0o600),
	} {
		t.Run(name, func(t *testing.T) {
			d, err := hardware.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, ok := d.(*relay.Sim); !ok {
				t.Fatalf("driver %T, want *relay.Sim", d)
			}
		})
	}
}

func TestOpen_Refused(t *testing.T) {
	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"readable by others":       {`{"driver":"sim"}`, 0o644, "accessible by others"},
		"not JSON":                 {`driver: gpio`, 0o600, agent.HardwareFile},
		"unknown driver":           {`{"driver":"spi"}`, 0o600, `unknown driver "spi"`},
		"gpio without chip":        {`{"driver":"gpio","gpio":{"relay_line":17,"sensor_line":-1}}`, 0o600, "chip required"},
		"wiegand without settings": {`{"driver":"wiegand"}`, 0o600, "chip required"},
		"wiegand without card": {`{"driver":"wiegand","wiegand":{"chip":"gpiochip0","d0_line":23,"d1_line":24,"format":26,"facility":1}}`,
			0o600, "card number required"},
		"wiegand same line twice": {`{"driver":"wiegand","wiegand":{"chip":"gpiochip0","d0_line":23,"d1_line":23,"format":26,"facility":1,"card":1}}`,
			0o600, "both line 23"},
		"wiegand facility too big": {`{"driver":"wiegand","wiegand":{"chip":"gpiochip0","d0_line":23,"d1_line":24,"format":26,"facility":300,"card":1}}`,
			0o600, "facility code 300 out of range for 26-bit (0 to 255)"},
		"wiegand unknown format": {`{"driver":"wiegand","wiegand":{"chip":"gpiochip0","d0_line":23,"d1_line":24,"format":"26","facility":1,"card":1}}`,
			0o600, agent.HardwareFile},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := hardware.Open(writeHardware(t, tc.content, tc.mode))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if d != nil {
				t.Fatalf("a failed Open returned the driver %#v", d)
			}
		})
	}
}

// TestOpen_GPIO: the gpio driver is selected and asked for its chip. No
// chip of that name exists here, so the GPIO driver's own refusal shows it
// was reached.
func TestOpen_GPIO(t *testing.T) {
	dir := writeHardware(t, `{"driver":"gpio","gpio":{"chip":"gpiochip-doorman-test","relay_line":17,"sensor_line":-1}}`, 0o600)
	d, err := hardware.Open(dir)
	want := `no GPIO chip "gpiochip-doorman-test"`
	if runtime.GOOS != "linux" {
		want = "needs Linux"
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one mentioning %q", err, want)
	}
	if d != nil {
		t.Fatalf("a failed Open returned the driver %#v", d)
	}
}

// TestOpen_Wiegand: the wiegand driver is selected and asked for its
// chip. No chip of that name exists here, so the GPIO code's own refusal
// shows it was reached.
func TestOpen_Wiegand(t *testing.T) {
	dir := writeHardware(t, `{"driver":"wiegand","wiegand":{"chip":"gpiochip-doorman-test","d0_line":23,"d1_line":24,"format":34,"facility":1000,"card":7}}`, 0o600)
	d, err := hardware.Open(dir)
	want := `no GPIO chip "gpiochip-doorman-test"`
	if runtime.GOOS != "linux" {
		want = "needs Linux"
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one mentioning %q", err, want)
	}
	if d != nil {
		t.Fatalf("a failed Open returned the driver %#v", d)
	}
}

// TestConfig_DocumentedWiegandExample: the wiegand hardware.json example
// of docs/device.md reads, with no unknown field, into the settings the
// document explains, and is valid.
func TestConfig_DocumentedWiegandExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/device.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## Virtual fob: Wiegand output")
	if !ok {
		t.Fatal("docs/device.md has no virtual fob section")
	}
	_, rest, ok = strings.Cut(rest, "### Settings (`hardware.json`)")
	if !ok {
		t.Fatal("the virtual fob section has no settings")
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the virtual fob settings have no JSON example")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(example)))
	dec.DisallowUnknownFields()
	var cfg hardware.Config
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("documented example: %v\n%s", err, example)
	}
	want := hardware.Config{Driver: hardware.DriverWiegand, Wiegand: gpio.WiegandConfig{
		Chip: "gpiochip0", D0Line: 23, D1Line: 24, Inverted: true,
		Config:     wiegand.Config{Format: wiegand.Format26, Facility: 1, Card: 4242, PulseMicros: 50, IntervalMicros: 2000},
		SensorLine: -1, TamperLine: 22,
	}}
	if cfg != want {
		t.Fatalf("documented example reads as %+v, want %+v", cfg, want)
	}
	if err := cfg.Wiegand.Validate(); err != nil {
		t.Fatalf("documented example is invalid: %v", err)
	}
	got, err := hardware.ReadConfig(writeHardware(t, example, 0o600))
	if err != nil || *got != want {
		t.Fatalf("ReadConfig: %+v, %v", got, err)
	}
	// The frame the section shows for FC 1 card 1 is the encoder's.
	f, err := wiegand.Encode(wiegand.Credential{Format: wiegand.Format26, Facility: 1, Card: 1})
	if err != nil {
		t.Fatal(err)
	}
	shown, err := wiegand.ParseFrame("1 00000001 0000000000000001 0")
	if err != nil || f.String() != shown.String() || !strings.Contains(string(doc), "`1 00000001 0000000000000001 0` (0x2020002)") {
		t.Fatalf("the documented frame is not %s", f)
	}
}

// TestConfig_DocumentedExample: the hardware.json example of
// docs/device.md reads, with no unknown field, into the settings the
// document explains.
func TestConfig_DocumentedExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/device.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## GPIO settings (`hardware.json`)")
	if !ok {
		t.Fatal("docs/device.md has no GPIO settings section")
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the GPIO settings section has no JSON example")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(example)))
	dec.DisallowUnknownFields()
	var cfg hardware.Config
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("documented example: %v\n%s", err, example)
	}
	want := hardware.Config{Driver: hardware.DriverGPIO, GPIO: gpio.Config{
		Chip: "gpiochip0", RelayLine: 17, RelayActiveLow: true, SensorLine: 27, SensorOpenLow: false,
		TamperLine: 22, TamperActiveLow: false,
	}}
	if cfg != want {
		t.Fatalf("documented example reads as %+v, want %+v", cfg, want)
	}
	if err := cfg.GPIO.Validate(); err != nil {
		t.Fatalf("documented example is invalid: %v", err)
	}
	// And ReadConfig reads the same from a data dir.
	got, err := hardware.ReadConfig(writeHardware(t, example, 0o600))
	if err != nil || *got != want {
		t.Fatalf("ReadConfig: %+v, %v", got, err)
	}
}
