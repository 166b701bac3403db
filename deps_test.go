package doorman_test

import (
	"os/exec"
	"strings"
	"testing"
)

// goListDeps returns the packages the given package links, as go list
// -deps prints them for this machine's GOOS and GOARCH.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps %s printed too little to judge:\n%s", pkg, out)
	}
	return deps
}

// TestControlPlaneLinksNoGPIO keeps the device's GPIO driver out of the
// control-plane binary: only cmd/doorman-agent may link periph.io. The
// device binary is listed too, to show the check would see the driver if
// it were linked.
func TestControlPlaneLinksNoGPIO(t *testing.T) {
	const periph = "periph.io/"
	linksPeriph := func(deps []string) []string {
		var found []string
		for _, d := range deps {
			if strings.HasPrefix(d, periph) {
				found = append(found, d)
			}
		}
		return found
	}
	if got := linksPeriph(goListDeps(t, "./cmd/doorman-agent")); len(got) == 0 {
		t.Fatalf("cmd/doorman-agent links no %s package: the GPIO driver is gone or this check looks at the wrong thing", periph)
	}
	for _, d := range linksPeriph(goListDeps(t, "./cmd/doorman")) {
		t.Errorf("cmd/doorman links %s; GPIO code belongs to the device binary only", d)
	}
}
