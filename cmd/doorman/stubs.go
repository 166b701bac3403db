package main

import (
	"context"
	"fmt"
	"io"
)

// runDemo will start a whole demo building; it arrives with the device issue.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "doorman demo: coming with the device issue; run `doorman serve` meanwhile.")
	return nil
}


func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("bench: not yet")
}
