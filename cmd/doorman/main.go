// Command doorman is Doorman's control plane in one binary: the server
// (serve), the demo, the operator's admin and audit tools, a stand-in for a
// courier's app, and the benchmark.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // buildings' time zones must load on machines without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "doorman:", err)
		}
		os.Exit(1)
	}
}

const usage = `doorman — the carrier-neutral delivery door, control plane

Usage:
  doorman serve    [flags]   run the control plane (API, bus, store)
  doorman demo     [flags]   run a demo building whose door a courier can open
  doorman admin    <cmd>     operator tasks (create-operator-token)
  doorman audit    verify    check every audit hash chain
  doorman courier  open      stand in for a courier's app at a door
  doorman bench    [flags]   measure access decisions per second

Every flag can also be set as DOORMAN_<FLAG> in the environment, e.g.
DOORMAN_HTTP_ADDR=0.0.0.0:8080. Run "doorman <command> -h" for its flags.
`

// run dispatches a command line; it is main without the process around it,
// so tests run the real program.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "admin":
		return runAdmin(ctx, rest, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "courier":
		return runCourier(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "bench-agents": // started by bench, not listed
		return runBenchAgents(ctx, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
