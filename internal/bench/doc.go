// Package bench holds the measuring parts of `doorman bench`: a recorder
// of request outcomes over time, the closed- and open-loop drivers, the
// hardware floor, process statistics read from /proc, and the SVG plot.
//
// It knows nothing of Doorman: it imports the standard library and, for
// the floor's round trip, nats-server and nats.go only. cmd/doorman
// supplies the request it measures.
package bench
