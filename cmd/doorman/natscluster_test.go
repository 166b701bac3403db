package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// natsServerBinary builds nats-server once, from the module cache (the
// version go.mod names), into the directory of the end-to-end binaries.
var natsServerBinary = sync.OnceValues(func() (string, error) {
	dir, err := binaries()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build nats-server: %v\n%s", err, out)
	}
	return bin, nil
})

// natsCluster is a NATS cluster of separate nats-server processes on
// loopback, run as a Doorman deployment's external bus: TLS for clients
// (handshake first) under a CA of its own, JetStream on every server, and
// decentralized JWT auth with an operator, a system account and the
// Doorman account, whose signing key issues the control plane's user and
// the devices'.
type natsCluster struct {
	URLs     []string   // the client URLs, tls://127.0.0.1:port
	Servers  []*process // the running servers, in the order of URLs
	CAFile   string     // the CA of the servers' certificates
	Creds    string     // the control plane's user credentials
	SeedFile string     // the account signing key's seed (mode 0600)
	monitors []string   // the servers' monitoring URLs
}

// startNATSCluster starts n servers routed to each other and waits until
// each answers its health check (JetStream included).
func startNATSCluster(t *testing.T, n int) *natsCluster {
	t.Helper()
	if _, err := natsServerBinary(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &natsCluster{}
	certFile, keyFile := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	c.CAFile = filepath.Join(dir, "ca.pem")
	writeTestTLS(t, c.CAFile, certFile, keyFile)
	operatorJWT, preload := c.writeAuth(t, dir)

	client, cluster, monitor := freePorts(t, n), freePorts(t, n), freePorts(t, n)
	for i := range n {
		var routes []string
		for j := range n {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", cluster[j]))
			}
		}
		conf := fmt.Sprintf(`server_name: n%d
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
tls {
  cert_file: %q
  key_file: %q
  handshake_first: true
}
jetstream {
  store_dir: %q
  max_file_store: 4294967296
  max_memory_store: 268435456
}
cluster {
  name: doorman
  listen: 127.0.0.1:%d
  routes: [%s]
}
operator: %q
%s
`, i+1, client[i], monitor[i], certFile, keyFile, filepath.Join(dir, fmt.Sprintf("js%d", i+1)),
			cluster[i], strings.Join(routes, ", "), operatorJWT, preload)
		file := filepath.Join(dir, fmt.Sprintf("n%d.conf", i+1))
		if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		c.URLs = append(c.URLs, fmt.Sprintf("tls://127.0.0.1:%d", client[i]))
		c.monitors = append(c.monitors, fmt.Sprintf("http://127.0.0.1:%d", monitor[i]))
		c.Servers = append(c.Servers, start(t, "nats-server", "-c", file))
	}
	for _, m := range c.monitors {
		waitHealthy(t, m+"/healthz", 60*time.Second)
	}
	return c
}

// URL is the comma-separated list of every server, as --nats-url takes it.
func (c *natsCluster) URL() string { return strings.Join(c.URLs, ",") }

// writeAuth creates the operator, the system account and the Doorman
// account with a signing key, writes the control plane's creds and the
// signing seed, and returns the operator JWT and the resolver settings
// (MEMORY, both accounts preloaded).
func (c *natsCluster) writeAuth(t *testing.T, dir string) (operatorJWT, resolver string) {
	t.Helper()
	op, _ := nkeys.CreateOperator()
	opPub, _ := op.PublicKey()
	sys, _ := nkeys.CreateAccount()
	sysPub, _ := sys.PublicKey()
	acc, _ := nkeys.CreateAccount()
	accPub, _ := acc.PublicKey()
	sk, _ := nkeys.CreateAccount()
	skPub, _ := sk.PublicKey()

	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = "doorman-test"
	oc.SystemAccount = sysPub
	operatorJWT = must1(oc.Encode(op))
	sc := jwt.NewAccountClaims(sysPub)
	sc.Name = "SYS"
	sysJWT := must1(sc.Encode(op))
	// The Doorman account as an operator would set it up (natsbus's
	// accountClaims is the embedded equivalent): JetStream with every
	// stream bounded, users only from the signing key, no bearer tokens.
	ac := jwt.NewAccountClaims(accPub)
	ac.Name = "DOORMAN"
	ac.SigningKeys.Add(skPub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{
		MemoryStorage: 64 << 20, DiskStorage: -1, Streams: -1, Consumer: -1,
		MaxAckPending: -1, MemoryMaxStreamBytes: -1, DiskMaxStreamBytes: -1,
		MaxBytesRequired: true,
	}
	ac.Limits.DisallowBearer = true
	accJWT := must1(ac.Encode(op))

	svc, _ := nkeys.CreateUser()
	svcPub, _ := svc.PublicKey()
	svcSeed, _ := svc.Seed()
	uc := jwt.NewUserClaims(svcPub)
	uc.Name = "doorman-control-plane"
	uc.IssuerAccount = accPub
	svcJWT := must1(uc.Encode(sk))
	creds := must1(jwt.FormatUserConfig(svcJWT, svcSeed))
	skSeed, _ := sk.Seed()
	c.Creds, c.SeedFile = filepath.Join(dir, "control-plane.creds"), filepath.Join(dir, "account-signing.nk")
	if err := os.WriteFile(c.Creds, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.SeedFile, skSeed, 0o600); err != nil {
		t.Fatal(err)
	}
	resolver = fmt.Sprintf("system_account: %s\nresolver: MEMORY\nresolver_preload: {\n  %s: %q\n  %s: %q\n}\n",
		sysPub, sysPub, sysJWT, accPub, accJWT)
	return operatorJWT, resolver
}

// writeTestTLS writes a CA and a server certificate it signed for
// 127.0.0.1 and localhost.
func writeTestTLS(t *testing.T, caFile, certFile, keyFile string) {
	t.Helper()
	caKey := must1(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Doorman test NATS CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER := must1(x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey))
	ca := must1(x509.ParseCertificate(caDER))
	key := must1(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"}}
	der := must1(x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey))
	keyDER := must1(x509.MarshalECPrivateKey(key))
	for file, block := range map[string]*pem.Block{
		caFile:   {Type: "CERTIFICATE", Bytes: caDER},
		certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// waitHealthy polls url until it answers 200.
func waitHealthy(t *testing.T, url string, within time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after %s (last: %v)", url, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
