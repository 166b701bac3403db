package http

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/internal/pgtest"
)

// envHooksChild marks the test binary run by TestHumaHooks as its child.
const envHooksChild = "DOORMAN_TEST_HUMA_HOOKS_CHILD"

// TestHumaHooks checks, in a fresh process (this test binary run again),
// that importing the package leaves huma's process-wide settings alone and
// NewServer installs them: no init() changes huma for a program that only
// imports doormanhttp.
func TestHumaHooks(t *testing.T) {
	if os.Getenv(envHooksChild) != "" {
		t.Skip("run by the parent")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHumaHooksChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envHooksChild+"=1", pgtest.EnvDSN+"=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHumaHooksChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// TestHumaHooksChild is TestHumaHooks' child; it runs only under it.
func TestHumaHooksChild(t *testing.T) {
	if os.Getenv(envHooksChild) == "" {
		t.Skip("run by TestHumaHooks in a fresh process")
	}
	if huma.ValidateStrictCasing {
		t.Fatal("huma.ValidateStrictCasing is set before any server is made")
	}
	if _, ok := huma.NewError(400, "x").(*Problem); ok {
		t.Fatal("huma.NewError is Doorman's before any server is made")
	}
	// Servers made concurrently install the settings once, without racing
	// (go test -race would tell), and all refuse case-folded fields.
	t.Run("servers", func(t *testing.T) {
		for i := range 4 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				op := e.credential(doorman.RoleOperator, "", "")
				e.expectProblem(422, doorman.EINVALID, request{Method: "POST", Path: "/v1/carriers", Token: op, Body: `{"Name":"Folded"}`})
			})
		}
	})
	if !huma.ValidateStrictCasing {
		t.Fatal("NewServer did not set huma.ValidateStrictCasing")
	}
}
