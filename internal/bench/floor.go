package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Floor is the hardware floor of one unlock, measured on this machine:
// the steps no implementation can skip, each at its median. Total is
// their sum, the latency a courier could at best see.
type Floor struct {
	// NATSRequestReply is one request and its reply over TLS on loopback
	// (the command to the door and its acknowledgement).
	NATSRequestReply float64 `json:"nats_request_reply"`
	// SignVerify is one Ed25519 signature and its verification (the
	// command signed by the control plane, checked by the door).
	SignVerify float64 `json:"ed25519_sign_verify"`
	// ServerWrite and DeviceWrite are one small durable write each (write
	// and fsync): the grant's commit on the server's disk, the replay
	// record on the device's.
	ServerWrite float64 `json:"durable_write_server"`
	DeviceWrite float64 `json:"durable_write_device"`
	Total       float64 `json:"total"`
}

// MeasureFloor measures the floor, with the server's durable write in
// serverDir and the device's in deviceDir, each step n times.
func MeasureFloor(ctx context.Context, serverDir, deviceDir string, n int) (*Floor, error) {
	f := &Floor{}
	var err error
	if f.NATSRequestReply, err = natsRoundTrip(ctx, n); err != nil {
		return nil, fmt.Errorf("bench: NATS floor: %w", err)
	}
	f.SignVerify = signVerify(n)
	if f.ServerWrite, err = durableWrite(serverDir, n/4+1); err != nil {
		return nil, fmt.Errorf("bench: server write floor: %w", err)
	}
	if f.DeviceWrite, err = durableWrite(deviceDir, n/4+1); err != nil {
		return nil, fmt.Errorf("bench: device write floor: %w", err)
	}
	f.Total = f.NATSRequestReply + f.SignVerify + f.ServerWrite + f.DeviceWrite
	return f, nil
}

// natsRoundTrip starts a NATS server with TLS on loopback and returns the
// median of n request/reply round trips, one at a time.
func natsRoundTrip(ctx context.Context, n int) (float64, error) {
	cert, pool, err := selfSigned()
	if err != nil {
		return 0, err
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, TLS: true})
	if err != nil {
		return 0, err
	}
	go srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		return 0, fmt.Errorf("server not ready")
	}
	tlsCfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	url := "tls://" + srv.Addr().String()
	resp, err := nats.Connect(url, nats.Secure(tlsCfg))
	if err != nil {
		return 0, err
	}
	defer resp.Close()
	if _, err := resp.Subscribe("floor", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		return 0, err
	}
	if err := resp.Flush(); err != nil {
		return 0, err
	}
	req, err := nats.Connect(url, nats.Secure(tlsCfg))
	if err != nil {
		return 0, err
	}
	defer req.Close()
	msg := make([]byte, 400) // about an unlock command's size
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n+n/10; i++ {
		start := time.Now()
		if _, err := req.RequestWithContext(ctx, "floor", msg); err != nil {
			return 0, err
		}
		if i >= n/10 { // the first tenth warms up
			ds = append(ds, time.Since(start))
		}
	}
	return Summarise(ds).P50, nil
}

// signVerify returns the median of n Ed25519 sign + verify of a message
// the size of an unlock command.
func signVerify(n int) float64 {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 400)
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		sig := ed25519.Sign(priv, msg)
		if !ed25519.Verify(pub, msg, sig) {
			panic("bench: ed25519 does not verify its own signature")
		}
		ds = append(ds, time.Since(start))
	}
	return Summarise(ds).P50
}

// durableWrite returns the median of n small writes, each made durable
// with fsync, to a file in dir.
func durableWrite(dir string, n int) (float64, error) {
	f, err := os.CreateTemp(dir, "floor-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	rec := make([]byte, 128) // a replay record, a grant row: small
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := f.Write(rec); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return Summarise(ds).P50, nil
}

// selfSigned makes a throwaway ECDSA certificate for localhost and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool, nil
}
