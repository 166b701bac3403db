package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps control-plane code out of the device binary: it must not
// link the NATS server, a database driver or the control plane's packages.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list printed too little to judge:\n%s", out)
	}
	forbidden := []string{
		"github.com/nats-io/nats-server",
		"modernc.org/sqlite",
		"github.com/jackc/pgx",
		"github.com/doorman-dev/doorman/natsbus",
		"github.com/doorman-dev/doorman/http",
		"github.com/doorman-dev/doorman/sqlstore",
		"github.com/doorman-dev/doorman/sqlite",
		"github.com/doorman-dev/doorman/postgres",
		"github.com/doorman-dev/doorman/policy",
		"github.com/doorman-dev/doorman/access",
		"github.com/danielgtaylor/huma",
	}
	required := "github.com/doorman-dev/doorman/agent"
	found := false
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("doorman-agent links %s", d)
			}
		}
		found = found || d == required
	}
	if !found {
		t.Fatalf("dependency list lacks %s; the check is not looking at the agent", required)
	}
}
