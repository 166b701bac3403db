package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/agent"
	"github.com/doorman-dev/doorman/agent/relay"
	"github.com/doorman-dev/doorman/app"
)

// demoState is what a demo data dir remembers between runs: the IDs of the
// seeded objects (no secrets; tokens are minted afresh at every start).
type demoState struct {
	BuildingID        string            `json:"building_id"`
	DoorID            string            `json:"door_id"`
	CourierIDs        map[string]string `json:"courier_ids"` // by external ID
	CarrierIDs        map[string]string `json:"carrier_ids"` // of each courier, by its external ID
	AllowedParcel     string            `json:"allowed_parcel"`
	OtherBuildingPar  string            `json:"other_building_parcel"`
	NotAllowedCarrier string            `json:"not_allowed_carrier_parcel"`
	ManagerEmail      string            `json:"manager_email"`
}

// Demo is a running demo: the control plane, one simulated door agent
// enrolled over the real API and connected over the real bus, and the
// seeded building.
type Demo struct {
	Main  *Main
	Agent *agent.Agent
	Relay *relay.Sim
	State *demoState
	// Tokens are fresh courier session tokens by courier external ID, and
	// an operator token.
	Tokens   map[string]string
	Operator string

	stopAgent context.CancelFunc
	agentDone chan error
}

// StartDemo starts the control plane in dir/server, seeds it on first use,
// enrolls a simulated door agent in dir/agent on first use, and runs it.
func StartDemo(ctx context.Context, cfg Config, dir string, logger *slog.Logger) (d *Demo, err error) {
	d = &Demo{Main: NewMain(), Tokens: map[string]string{}}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	d.Main.Config = cfg
	d.Main.Config.DataDir = filepath.Join(dir, "server")
	d.Main.Logger = logger
	if err := d.Main.Open(ctx); err != nil {
		return d, err
	}
	go d.Main.Serve()

	services := d.Main.App
	if d.State, err = loadOrSeedDemo(ctx, services, filepath.Join(dir, "demo.json")); err != nil {
		return d, err
	}
	if d.Operator, _, err = services.Credentials.CreateOperatorToken(systemContext(ctx), "demo"); err != nil {
		return d, err
	}
	for ext, carrierID := range d.State.CarrierIDs {
		// Minted as the courier's carrier would, through the API's call.
		if d.Tokens[ext], _, err = services.Credentials.CreateCourierSession(carrierContext(ctx, carrierID), carrierID, ext, 12*time.Hour); err != nil {
			return d, err
		}
	}

	agentDir := filepath.Join(dir, "agent")
	if _, err := agent.LoadIdentity(agentDir); err != nil {
		if err := d.enroll(ctx, agentDir); err != nil {
			return d, fmt.Errorf("enroll the demo door agent: %w", err)
		}
	}
	d.Relay = relay.NewSim()
	if d.Agent, err = agent.New(agent.Config{DataDir: agentDir, Relay: d.Relay, Sensor: d.Relay, Tamper: d.Relay, Logger: logger.With("from", "agent")}); err != nil {
		return d, err
	}
	agentCtx, cancel := context.WithCancel(context.Background())
	d.stopAgent, d.agentDone = cancel, make(chan error, 1)
	go func() { d.agentDone <- d.Agent.Run(agentCtx) }()

	// The agent refuses commands until its clock is synced with the
	// control plane, which it does as soon as it is connected.
	for synced := false; !synced; synced, _ = d.Agent.ClockSynced() {
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case err := <-d.agentDone:
			return d, fmt.Errorf("door agent stopped: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return d, nil
}

// enroll creates an enrollment code through the API, as a manager would,
// and enrolls the agent with it, as an installer would.
func (d *Demo) enroll(ctx context.Context, agentDir string) error {
	url := fmt.Sprintf("%s/v1/buildings/%s/doors/%s/enrollments", d.Main.URL(), d.State.BuildingID, d.State.DoorID)
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+d.Operator)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct{ Code, Detail string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("create enrollment: %s %s", resp.Status, out.Detail)
	}
	_, err = agent.Enroll(ctx, agent.EnrollOptions{Server: d.Main.URL(), Code: out.Code, DataDir: agentDir, Force: true})
	return err
}

// Close stops the agent and the control plane.
func (d *Demo) Close() error {
	if d.stopAgent != nil {
		d.stopAgent()
		<-d.agentDone
	}
	var err error
	if d.Agent != nil {
		err = d.Agent.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, d.Main.Close(ctx))
}

// loadOrSeedDemo reads the demo state file, or seeds the store and writes it.
func loadOrSeedDemo(ctx context.Context, services *app.Services, path string) (*demoState, error) {
	if data, err := os.ReadFile(path); err == nil {
		var st demoState
		if err := json.Unmarshal(data, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(st.CarrierIDs) == 0 || st.ManagerEmail == "" {
			return nil, fmt.Errorf("%s was written by an older Doorman: remove its directory to seed a new demo", path)
		}
		return &st, nil
	}
	seeded, err := seedDemo(ctx, services, 0)
	if err != nil {
		return nil, err
	}
	st := &demoState{
		BuildingID: seeded.Building.ID, DoorID: seeded.Door.ID, CourierIDs: map[string]string{}, CarrierIDs: map[string]string{},
		AllowedParcel: seeded.AllowedParcel, OtherBuildingPar: seeded.OtherBuildingPar, NotAllowedCarrier: seeded.NotAllowedCarrier,
		ManagerEmail: seeded.Manager.Email,
	}
	for ext, c := range seeded.Couriers {
		st.CourierIDs[ext] = c.ID
		st.CarrierIDs[ext] = c.CarrierID
	}
	data, _ := json.MarshalIndent(st, "", "  ")
	return st, os.WriteFile(path, data, 0o600)
}

// carrierContext is ctx with a carrier as the caller: the demo acting as
// the carrier that runs its couriers.
func carrierContext(ctx context.Context, carrierID string) context.Context {
	return doorman.NewContextWithPrincipal(ctx, &doorman.Principal{Role: doorman.RoleCarrier, SubjectID: carrierID, CarrierID: carrierID})
}

// runDemo runs `doorman demo`: a demo building whose door a courier can
// open, until interrupted; with --smoke, the story unattended.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	cfg.LogLevel = "warn"
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data-dir", "./doorman-demo", "where the demo keeps its server and door agent state")
	smoke := fs.Bool("smoke", false, "run the story unattended (fresh temporary data dir, free ports) and exit 0 only if it holds")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "API listen address")
	fs.StringVar(&cfg.NATSListen, "nats-listen", cfg.NATSListen, "bus listen address")
	cfg.logFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := cfg.Logger(stderr)
	if err != nil {
		return err
	}
	if *smoke {
		tmp, err := os.MkdirTemp("", "doorman-smoke-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir, cfg.HTTPAddr, cfg.NATSListen = tmp, "127.0.0.1:0", "127.0.0.1:0"
	}
	d, err := StartDemo(ctx, cfg, *dir, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	if *smoke {
		return d.Smoke(ctx, stdout)
	}
	d.printWelcome(stdout)
	go d.reportPulses(ctx, stdout)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nstopping the demo")
	return nil
}

// reportPulses prints every time the simulated strike relay releases.
func (d *Demo) reportPulses(ctx context.Context, stdout io.Writer) {
	for n := d.Relay.Pulses() + 1; ; n++ {
		if err := d.Relay.WaitPulses(ctx, n); err != nil {
			return
		}
		dur, _ := d.Relay.LastPulse()
		fmt.Fprintf(stdout, "[door] strike relay released for %s — the door is open\n", dur)
	}
}

func (d *Demo) printWelcome(w io.Writer) {
	st := d.State
	self := "go run ./cmd/doorman"
	server := ""
	if d.Main.Config.HTTPAddr != DefaultConfig().HTTPAddr {
		server = " --server " + d.Main.URL()
	}
	var pages strings.Builder
	for _, u := range d.webURLs() {
		fmt.Fprintf(&pages, "  %-10s %s   (%s)\n", u.Who, u.URL, u.How)
	}
	fmt.Fprintf(w, `
Doorman demo is running.
%s  API        %s   (OpenAPI: %s/v1/openapi.json)
  bus        %s   (embedded NATS, TLS, one JWT per device)
  building   Maple Court (%s), front door %s
  door agent a real doorman agent with a simulated strike relay, enrolled and online

Operator token for this run (shown once): %s

Try, in another terminal:

  # Alice (ParcelPost) has a parcel for Maple Court: the door opens
  %s courier open%s --token %s --door %s --parcel %s

  # the same courier with a parcel for another building: refused, parcel_not_for_building
  %s courier open%s --token %s --door %s --parcel %s

  # Carol's carrier, LocalRunners, is not allowed at Maple Court: to her this
  # door does not exist (a carrier cannot probe the doors of buildings that
  # have not let it in), and nothing is written to Maple Court's log
  %s courier open%s --token %s --door %s --parcel %s

  # what happened, hash-chained
  curl -s -H "Authorization: Bearer %s" %s/v1/audit | head -c 2000

Ctrl-C stops the demo; its state stays in the data dir for the next run.
`, pages.String(), d.Main.URL(), d.Main.URL(), d.Main.Bus.ClientURL(), st.BuildingID, st.DoorID, d.Operator,
		self, server, d.Tokens["pp-alice"], st.DoorID, st.AllowedParcel,
		self, server, d.Tokens["pp-alice"], st.DoorID, st.OtherBuildingPar,
		self, server, d.Tokens["lr-carol"], st.DoorID, st.NotAllowedCarrier,
		d.Operator, d.Main.URL())
}
