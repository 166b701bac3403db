package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman"
	"github.com/doorman-dev/doorman/wire"
)

// EnrollOptions configures Enroll.
type EnrollOptions struct {
	// Server is the control plane's base URL. It must be https, except on
	// a loopback address (tests, a control plane on the same host).
	Server string
	// Code is the one-time enrollment code a building manager created for
	// the door.
	Code string
	// DataDir receives the identity; it must not hold one already unless
	// Force is set.
	DataDir string
	Force   bool
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
}

// Enroll claims a door for this device: it generates the device's NATS
// user key on the device, sends the public half with the one-time code to
// POST {server}/v1/device/enroll, checks the answer (the JWT must be issued
// to this key and be for the door the answer names) and stores the
// identity and pinned CA in the data dir (0600). The private key never
// leaves the device.
func Enroll(ctx context.Context, opt EnrollOptions) (*Identity, error) {
	base, err := enrollURL(opt.Server)
	if err != nil {
		return nil, err
	}
	if !opt.Force {
		if _, err := os.Stat(filepath.Join(opt.DataDir, IdentityFile)); err == nil {
			return nil, doorman.Errorf(doorman.ECONFLICT, "This device is already enrolled; use --force to enroll it again.")
		}
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	body, err := wire.Encode(&wire.EnrollRequest{Code: opt.Code, NKey: pub, AgentVersion: Version}, wire.MaxEnrollSize)
	if err != nil {
		return nil, err
	}
	client := opt.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+wire.EnrollPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, doorman.Errorf(doorman.EUNAVAILABLE, "Could not reach the control plane: %v", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, wire.MaxEnrollSize+1))
	if err != nil {
		return nil, doorman.Errorf(doorman.EUNAVAILABLE, "Could not read the control plane's answer.")
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return nil, enrollError(res.StatusCode, data)
	}
	var resp wire.EnrollResponse
	if err := wire.Decode(data, wire.MaxEnrollSize, &resp); err != nil {
		return nil, doorman.Errorf(doorman.EINVALID, "The control plane's enrollment answer is malformed: %s", doorman.ErrorMessage(err))
	}
	uc, err := jwt.DecodeUserClaims(resp.UserJWT)
	if err != nil || uc.Subject != pub {
		return nil, doorman.Errorf(doorman.EINVALID, "The control plane issued credentials for another key.")
	}
	id := &Identity{
		DeviceID: resp.DeviceID, DoorID: resp.DoorID, NATSURLs: resp.NATSURLs,
		UserJWT: resp.UserJWT, NKeySeed: string(seed), CommandKeys: resp.CommandKeys,
		Door: resp.Door, CACertPEM: resp.CACertPEM, TLSFirst: resp.TLSFirst, AuditKey: resp.AuditKey, AuditChain: resp.AuditChain,
	}
	// The key set of an earlier enrollment would override the keys given
	// now (see loadKeySet); the door learns the current set at its first
	// heartbeat.
	if err := os.Remove(filepath.Join(opt.DataDir, keysFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := SaveIdentity(opt.DataDir, id); err != nil {
		return nil, err
	}
	return id, nil
}

// enrollURL checks the server URL: https, or http to a loopback address.
func enrollURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", doorman.Errorf(doorman.EINVALID, "Server must be a URL such as https://doorman.example.")
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", doorman.Errorf(doorman.EINVALID, "Enrollment pins the bus CA and command keys, so it needs https (plain http only to a loopback address).")
		}
	default:
		return "", doorman.Errorf(doorman.EINVALID, "Server must be an https URL.")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// enrollError turns a refused enrollment (RFC 9457 problem JSON, if the
// server sent one) into a domain error.
func enrollError(status int, body []byte) error {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(body, &p)
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	msg = clip(msg, 200)
	code := doorman.EINTERNAL
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		code = doorman.EINVALID
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound || status == http.StatusGone:
		code = doorman.EUNAUTHORIZED
	case status == http.StatusConflict:
		code = doorman.ECONFLICT
	case status == http.StatusTooManyRequests:
		code = doorman.ETOOMANYREQUEST
	case status >= 500:
		code = doorman.EUNAVAILABLE
	}
	return doorman.Errorf(code, "Enrollment refused (%d): %s", status, msg)
}
