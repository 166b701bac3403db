package policy_test

import (
	"testing"

	"github.com/doorman-dev/doorman/policy"
)

// BenchmarkDecide measures the decision of an allowed request, which runs
// every check: hours in the building's time zone, distance, and the parcel.
func BenchmarkDecide(b *testing.B) {
	in := base()
	for b.Loop() {
		if d := policy.Decide(in); !d.Allowed {
			b.Fatalf("denied: %+v", d)
		}
	}
}
