package doorman_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// importRules says, for every package of the module, what it may import
// directly: the rules each package's doc.go states, made executable. Keys
// and Module entries are paths inside the module ("." is the root
// package); ThirdParty entries are module or package paths, each allowing
// itself and everything below it. The standard library is allowed but for
// what NoStd names.
//
// The rules hold for the code built into programs. Tests are free to use
// the real adapters (agent tests start a real natsbus, http tests a real
// store), so test imports are not checked.
//
// A package missing here fails TestImportRules: a new package gets a row,
// written from its doc.go. A row whose package does not exist (yet) is
// allowed.
var importRules = map[string]importRule{
	// The domain: "imports no adapter: not sqlite, postgres, natsbus, http
	// or any driver. Arrows point inward, to here."
	".": {},
	// "A pure function of its input: no I/O, no clock, no randomness ...
	// It imports only the domain package and the standard library."
	"policy": {
		Module: []string{"."},
		NoStd:  []string{"os", "io/fs", "net", "net/http", "database/sql", "crypto/rand", "math/rand", "math/rand/v2"},
	},
	// "Imports the domain, policy and the Prometheus client; never a store,
	// bus or HTTP package."
	"access": {
		Module:     []string{".", "policy"},
		ThirdParty: []string{"github.com/prometheus/client_golang"},
	},
	// "Imports the domain, wire and password; never a store, bus or HTTP
	// package, nor a driver."
	"app": {
		Module:     []string{".", "wire", "password", "auditlog", "webhook"},
		ThirdParty: []string{"golang.org/x/mod/sumdb/note"},
	},
	// "Imports the domain, wire and internal/durable; never a store, bus
	// or HTTP package."
	// "It imports the domain, internal/durable, transparency-dev/merkle,
	// transparency-dev/formats and golang.org/x/mod/sumdb/note; never a
	// store, bus or HTTP package."
	"auditlog": {
		Module:     []string{".", "internal/durable"},
		ThirdParty: []string{"github.com/transparency-dev/merkle", "github.com/transparency-dev/formats", "golang.org/x/mod/sumdb/note"},
	},
	"keyring": {
		Module:     []string{".", "wire", "internal/durable"},
		ThirdParty: []string{"golang.org/x/mod/sumdb/note"},
	},
	// "Imports only the standard library and golang.org/x/crypto; it must
	// never import the doorman domain or any adapter."
	"password": {
		ThirdParty: []string{"golang.org/x/crypto"},
	},
	// "Must never import a database driver, an engine package (sqlite,
	// postgres) or any other adapter (http, natsbus): it sees the database
	// only through database/sql and the Dialect."
	"sqlstore": {
		Module: []string{"."},
	},
	// "Must never import another adapter (postgres, http, natsbus) or
	// anything above the store."
	"sqlite": {
		Module:     []string{".", "sqlstore"},
		ThirdParty: []string{"modernc.org/sqlite"},
	},
	// "Must never import another adapter (sqlite, http, natsbus) or
	// anything above the store."
	"postgres": {
		Module:     []string{".", "sqlstore"},
		ThirdParty: []string{"github.com/jackc/pgx/v5"},
	},
	// "Must never import sqlstore, an engine package (sqlite, postgres) or
	// any other adapter." nkeys makes device keys for the device tests.
	"storetest": {
		Module:     []string{".", "auditlog"},
		ThirdParty: []string{"github.com/nats-io/nkeys", "golang.org/x/mod/sumdb/note"},
	},
	// "Must never import nats-server, a database driver, net/http servers
	// or any control-plane package. It imports only the domain root, the
	// standard library, go-paseto, nkeys and golang.org/x/crypto/blake2b."
	"wire": {
		Module:     []string{"."},
		ThirdParty: []string{"aidanwoods.dev/go-paseto", "github.com/nats-io/nkeys", "golang.org/x/crypto/blake2b"},
		NoStd:      []string{"net/http"},
	},
	// "Implements doorman.DoorLink. It must never import http, sqlite,
	// postgres or any other adapter."
	"natsbus": {
		Module: []string{".", "wire", "internal/durable"},
		ThirdParty: []string{"github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go",
			"github.com/nats-io/jwt/v2", "github.com/nats-io/nkeys"},
	},
	// "A thin adapter over the application services (app); it shares the
	// device protocol types of wire, and must never import a store,
	// natsbus, access or cmd."
	"http": {
		Module:     []string{".", "app", "wire", "internal/clientaddr"},
		ThirdParty: []string{"github.com/danielgtaylor/huma/v2", "github.com/prometheus/client_golang"},
	},
	// "It imports the domain and the standard library only; never a store,
	// app, or an HTTP package of the module."
	"webhook": {
		Module: []string{"."},
	},
	// "Crash-safe file writes ... imports only the standard library."
	"internal/durable": {},
	// "It imports only the standard library."
	"internal/clientaddr": {},
	// "It imports only the standard library, and only tests import it."
	"internal/mailpit": {},
	// "It imports only the standard library, and only tests import it."
	"internal/netproxy": {},
	// "It imports only the standard library, and only tests import it."
	"internal/tmpfs": {},
	// "It knows nothing of Doorman: it imports the standard library and,
	// for the floor's round trip, nats-server and nats.go only."
	"internal/bench": {
		ThirdParty: []string{"github.com/nats-io/nats-server/v2", "github.com/nats-io/nats.go"},
	},
	// "A thin adapter over the application services (app), like http: it
	// never imports a store, natsbus, access or cmd."
	"web": {
		Module:     []string{".", "app", "auditlog", "internal/clientaddr"},
		ThirdParty: []string{"github.com/pquerna/otp", "github.com/skip2/go-qrcode"},
	},
	// "It imports the domain and go-mail only; never a store, app or an
	// HTTP package."
	"email": {
		Module:     []string{"."},
		ThirdParty: []string{"github.com/wneessen/go-mail"},
	},
	// "Imports nothing of Doorman, only the standard library and the pgx
	// driver." No production package may import it (no row allows it).
	"internal/pgtest": {
		ThirdParty: []string{"github.com/jackc/pgx/v5"},
	},
	// The device agent: "must never import natsbus, nats-server, a database
	// driver or any other control-plane package", nor a hardware driver.
	"agent": {
		Module: []string{".", "wire", "agent/relay", "internal/durable", "auditlog"},
		ThirdParty: []string{"github.com/nats-io/nats.go", "github.com/nats-io/jwt/v2", "github.com/nats-io/nkeys",
			"golang.org/x/mod/sumdb/note"},
	},
	// "Imports only the standard library. It must never import periph.io
	// or any other hardware library, the bus, the agent or any server
	// code."
	"agent/relay": {},
	// The one package that may import periph.io: "imports agent/relay,
	// agent/relay/wiegand, periph.io and the standard library".
	"agent/relay/gpio": {
		Module:     []string{"agent/relay", "agent/relay/wiegand"},
		ThirdParty: []string{"periph.io/x/conn/v3", "periph.io/x/host/v3"},
	},
	// "Imports agent/relay and the standard library only. It must never
	// import periph.io or any other hardware library".
	"agent/relay/wiegand": {
		Module: []string{"agent/relay"},
	},
	// "Imports the agent, agent/relay and agent/relay/gpio", and only the
	// device binary imports it.
	"agent/hardware": {
		Module: []string{"agent", "agent/relay", "agent/relay/gpio"},
	},
	// The control plane wires every server package together, and runs a
	// simulated door agent in its demo; never the GPIO driver.
	"cmd/doorman": {
		Module: []string{".", "access", "app", "http", "keyring", "natsbus", "password", "policy", "postgres", "sqlite",
			"sqlstore", "wire", "agent", "agent/relay", "auditlog", "web", "email", "webhook", "internal/bench"},
		ThirdParty: []string{"github.com/prometheus/client_golang", "github.com/skip2/go-qrcode", "github.com/schollz/progressbar/v3",
			"golang.org/x/term", "golang.org/x/net"},
	},
	// The device binary "links no control-plane code".
	"cmd/doorman-agent": {
		Module: []string{".", "wire", "agent", "agent/hardware", "agent/relay", "agent/relay/wiegand", "internal/durable"},
	},
}

// serverPackages are the control plane's packages (module paths).
var serverPackages = []string{"sqlstore", "sqlite", "postgres", "natsbus", "http", "web", "access", "app", "keyring", "policy",
	"password", "storetest", "internal/pgtest", "internal/mailpit", "email", "webhook", "cmd/..."}

// serverLibraries are the control plane's third-party libraries.
var serverLibraries = []string{"github.com/nats-io/nats-server", "modernc.org/sqlite", "github.com/jackc/pgx",
	"github.com/danielgtaylor/huma", "github.com/wneessen/go-mail"}

// importBans guard importRules against itself: however a row is edited
// (say, to make TestImportRules pass), it must never allow these.
var importBans = []importBan{
	{
		Rows: "agent/...", Why: "the device's code imports no server package",
		Module: serverPackages, ThirdParty: serverLibraries,
	},
	{
		Rows: "agent/...", Except: []string{"agent/relay/gpio"},
		Why:        "only the GPIO driver imports periph.io",
		ThirdParty: []string{"periph.io"},
	},
	{
		Rows: "cmd/doorman-agent", Why: "the device binary links no server code",
		Module: serverPackages, ThirdParty: serverLibraries,
	},
	{
		Rows: "wire", Why: "wire is linked by the device and imports no server package",
		Module: slices.Concat(serverPackages, []string{"agent/..."}), ThirdParty: serverLibraries,
	},
	{
		Rows: "cmd/doorman", Why: "the control plane links no GPIO code",
		Module: []string{"agent/hardware", "agent/relay/gpio"}, ThirdParty: []string{"periph.io"},
	},
	{
		Rows: ".", Why: "the domain imports no other package of the module and no driver",
		Module: []string{"..."}, ThirdParty: []string{""},
	},
	{
		Rows: "policy", Why: "policy imports only the domain",
		Module: []string{"..."}, ExceptModule: []string{"."}, ThirdParty: []string{""},
	},
	{
		Rows: "app", Why: "application services see stores, the bus and transports only through interfaces",
		Module:     []string{"sqlstore", "sqlite", "postgres", "natsbus", "http", "cmd/..."},
		ThirdParty: []string{"periph.io", "github.com/danielgtaylor/huma", "github.com/nats-io", "modernc.org/sqlite", "github.com/jackc/pgx"},
	},
}

// TestImportRules lists the module's packages with go list and fails for
// every import a package's rule does not allow, for every package without
// a rule, and for every rule that allows what importBans forbid.
func TestImportRules(t *testing.T) {
	for _, v := range banViolations(importRules, importBans) {
		t.Error(v)
	}
	pkgs := goListPackages(t)
	if len(pkgs) < 10 || !slices.ContainsFunc(pkgs, func(p listedPackage) bool { return p.ImportPath == module+"/agent" }) {
		t.Fatalf("go list found %d packages, not the module's: this test would judge nothing", len(pkgs))
	}
	for _, v := range importViolations(pkgs, importRules) {
		t.Error(v)
	}
	for _, row := range absentRows(pkgs, importRules) {
		t.Logf("importRules has a row for %s, which does not exist in this tree", row)
	}
}

// commandRunners are the only packages of the module that may import
// os/exec, each for a reason: the bench starts the server and the door
// agents as processes of their own (cmd/doorman/bench.go); the test
// helpers start mailpit and mount tmpfs. No package that serves requests
// — API, pages, services, stores, bus, the agent — runs a command, so no
// input can be made into one (the console command injections of access
// panels).
var commandRunners = []string{"cmd/doorman", "internal/mailpit", "internal/tmpfs"}

// TestNoServingPackageRunsCommands fails for any other package that
// imports os/exec.
func TestNoServingPackageRunsCommands(t *testing.T) {
	pkgs := goListPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages: this test would judge nothing", len(pkgs))
	}
	for _, p := range pkgs {
		r, _ := rel(p.ImportPath)
		if slices.Contains(p.Imports, "os/exec") && !slices.Contains(commandRunners, r) {
			t.Errorf("%s imports os/exec", r)
		}
	}
	// In the control plane's command, only the bench does.
	files, err := filepath.Glob("cmd/doorman/*.go")
	if err != nil || len(files) < 10 {
		t.Fatalf("cmd/doorman: %d files, %v", len(files), err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"os/exec"` && filepath.Base(name) != "bench.go" {
				t.Errorf("%s imports os/exec: only the bench may run commands", name)
			}
		}
	}
}
