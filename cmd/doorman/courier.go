package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	qrcode "github.com/skip2/go-qrcode"
)

// stringsFlag collects a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// runCourier stands in for a carrier's courier app: `doorman courier open`
// scans parcels at a door through the API and prints the decision and how
// long it took.
func runCourier(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "open" {
		fmt.Fprintln(stderr, "usage: doorman courier open --door DOOR --parcel TRACKING [--parcel …] [--server URL] [--token TOKEN] [--lat L --lng L] [--light-terminal]")
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("courier open", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "Doorman API base URL")
	token := fs.String("token", "", "courier session token (dmc_…), minted by the carrier")
	door := fs.String("door", "", "door ID (dor_…)")
	var parcels stringsFlag
	fs.Var(&parcels, "parcel", "scanned tracking number (repeatable)")
	lat := fs.Float64("lat", 0, "courier latitude (with --lng)")
	lng := fs.Float64("lng", 0, "courier longitude (with --lat)")
	lightTerminal := fs.Bool("light-terminal", false, "draw an offline grant's QR code for a terminal with a light background (the default suits a dark one)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *token == "" || *door == "" || len(parcels) == 0 {
		return errors.New("courier open needs --token (or DOORMAN_TOKEN), --door and at least one --parcel")
	}
	body := map[string]any{"door_id": *door, "tracking_numbers": []string(parcels)}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["lat"] || set["lng"] {
		body["position"] = doorman.Position{Latitude: *lat, Longitude: *lng}
	}
	start := time.Now()
	res, err := openDoor(ctx, http.DefaultClient, *server, *token, body)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	if res.Decision.Allowed {
		fmt.Fprintf(stdout, "OPEN    door %s opened for grant %s (%s)\n", *door, res.Grant.ID, elapsed.Round(100*time.Microsecond))
		return nil
	}
	fmt.Fprintf(stdout, "REFUSED %s: %s (%s)\n", res.Decision.Reason, res.Decision.Detail, elapsed.Round(100*time.Microsecond))
	if og := res.OfflineGrant; og != nil {
		if err := printOfflineGrant(stdout, og, *lightTerminal); err != nil {
			return err
		}
	}
	return errRefused
}

// printOfflineGrant shows an offline grant as a QR code drawn with block
// characters, for the door's reader to scan off the screen, and as a
// TOKEN line for scripts. Dark modules are drawn as the terminal's
// background, so the code reads right on a dark terminal, or on a light
// one with light set.
func printOfflineGrant(w io.Writer, og *doorman.OfflineGrant, light bool) error {
	qr, err := qrcode.New(og.Token, qrcode.Low)
	if err != nil {
		return fmt.Errorf("draw the offline grant: %w", err)
	}
	left := time.Until(og.ExpiresAt).Round(time.Second)
	fmt.Fprintf(w, "OFFLINE the door cannot be reached, but it accepts this code at its reader until %s (%s from now):\n",
		og.ExpiresAt.Local().Format("15:04:05"), max(left, 0))
	fmt.Fprint(w, qr.ToSmallString(light))
	fmt.Fprintf(w, "TOKEN %s\n", og.Token)
	return nil
}

// errRefused makes `courier open` exit non-zero when the door stays shut.
var errRefused = errors.New("access refused")

// openDoor posts an access request and decodes the answer, turning a
// problem response into an error that carries its detail.
func openDoor(ctx context.Context, client *http.Client, server, token string, body any) (*doorman.AccessResult, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(server, "/")+"/v1/courier/access-requests", bytes.NewReader(buf))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var p struct {
			Title, Detail, Code string
		}
		_ = json.Unmarshal(data, &p)
		return nil, fmt.Errorf("%s: %s (%s)", resp.Status, p.Detail, p.Code)
	}
	var res doorman.AccessResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return &res, nil
}
