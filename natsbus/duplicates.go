package natsbus

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman/wire"
)

// A device's credentials are meant to be on one board, which holds one
// connection. NATS cannot refuse a second one: a user JWT has no
// connection limit (jwt.UserLimits holds source networks and times only;
// the account's limit counts all devices together). So the bus watches for
// it instead, with what every account can ask of the server in both modes:
// the account's connection list ($SYS.REQ.ACCOUNT.PING.CONNZ, imported into
// every account by the server). It asks for the whole list every
// DuplicateCheckInterval and, on the embedded server, counts each key's
// connections from the system account's CONNECT and DISCONNECT advisories
// (which the bus subscribes to with a system user of its own), asking for
// a key's connections when it has two: the whole list costs the server a
// JWT decoding and signature check per connection, which at every connect
// of a fleet of 10,000 doors took a core, and even a list filtered by key
// walks every connection. A device key seen on two connections at once is
// handed to Config.OnDuplicateConnection, once per new connection and at
// most once per duplicateReportGap for one device.
//
// Acknowledgements and events are signed by the device (see send and
// app.Devices.RecordEvent), so a second connection made with a copied JWT
// alone cannot speak for the door; one made with a copy of the whole
// device.json, seed included, can sign too. Either way the device's
// credentials were copied, which the building's manager must hear about.

// DefaultDuplicateCheckInterval is how often the bus lists the account's
// connections to find a device connected twice.
const DefaultDuplicateCheckInterval = 30 * time.Second

// DefaultEmbeddedDuplicateCheckInterval is how often the bus reads the
// embedded server's whole connection list: a safety net only, since there
// each key's connections are counted from the server's advisories (and
// the list read once at start), and the whole list costs the server
// a JWT check and ~18 KB per connection (a second of CPU and 180 MB at
// 10,000 doors).
const DefaultEmbeddedDuplicateCheckInterval = 10 * time.Minute

// Bounds on the watch, so that a thief reconnecting in a loop can neither
// keep the bus listing connections nor fill the building's audit log:
// checks are at least minDuplicateCheckGap apart, and one device is
// reported at most once per duplicateReportGap (later duplicates within it
// are logged only).
const (
	minDuplicateCheckGap = time.Second
	duplicateReportGap   = 10 * time.Minute
)

// DuplicateConnection is a device key on more than one connection at once.
type DuplicateConnection struct {
	// DeviceID is the device the key's user JWT was issued to.
	DeviceID string
	// PublicKey is the device's NATS user key.
	PublicKey string
	// Conns are the key's connections, oldest first.
	Conns []Conn
}

// Conn describes one client connection as the server reports it.
type Conn struct {
	ID           uint64
	Addr         string // remote IP:port
	Name         string // as the client named itself
	Start        time.Time
	LastActivity time.Time
}

// String describes the connections for people.
func (d DuplicateConnection) String() string {
	s := fmt.Sprintf("%d connections with device %s's credentials:", len(d.Conns), d.DeviceID)
	for _, c := range d.Conns {
		s += fmt.Sprintf(" [%d from %s since %s, last active %s]", c.ID, c.Addr,
			c.Start.UTC().Format(time.RFC3339), c.LastActivity.UTC().Format(time.RFC3339))
	}
	return s
}

// advisory is a client connection opened or closed, from the embedded
// server's CONNECT and DISCONNECT advisories.
type advisory struct {
	user string // the client's NATS user key
	cid  uint64 // the server's connection ID
	open bool
}

// connCounts holds the connection IDs of each user key.
type connCounts map[string]map[uint64]struct{}

// add notes connection cid of user and returns how many user has.
func (c connCounts) add(user string, cid uint64) int {
	if c[user] == nil {
		c[user] = map[uint64]struct{}{}
	}
	c[user][cid] = struct{}{}
	return len(c[user])
}

// remove forgets connection cid of user.
func (c connCounts) remove(user string, cid uint64) {
	delete(c[user], cid)
	if len(c[user]) == 0 {
		delete(c, user)
	}
}

// watchDuplicates runs until the bus closes: it checks the account's whole
// connection list every interval and, on the embedded server, keeps count
// of each key's connections from the advisories, asking the server for a
// key's connections only when the count says it has two (so a fleet
// connecting costs the server no connection list at all). The count is
// only a trigger: the server's answer decides, an advisory lost leaves a
// count stale until the next whole list resets it, and a duplicate whose
// advisory was lost is found by that list.
func (b *Bus) watchDuplicates(advisories <-chan advisory, done <-chan struct{}) {
	t := time.NewTicker(b.cfg.DuplicateCheckInterval)
	defer t.Stop()
	type report struct {
		newest uint64 // newest connection ID seen in a duplicate
		at     time.Time
	}
	reported := map[string]report{} // by device key
	open := connCounts{}            // connections by key, as the advisories tell
	var last time.Time
	// The whole list once at start: connections the server took before
	// the advisories were watched are counted too.
	start := time.After(0)
	for {
		user := "" // the whole list
		select {
		case <-done:
			return
		case <-start:
		case <-t.C:
		case a := <-advisories:
			if !a.open {
				open.remove(a.user, a.cid)
				continue
			}
			if open.add(a.user, a.cid) < 2 {
				continue
			}
			user = a.user
		}
		if user == "" {
			if gap := minDuplicateCheckGap - time.Since(last); gap > 0 {
				select {
				case <-done:
					return
				case <-time.After(gap):
				}
			}
			last = time.Now()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conns, err := b.accountConns(ctx, user)
		cancel()
		if err != nil {
			b.log.Warn("natsbus: could not list the account's connections", "err", err)
			continue
		}
		if user == "" {
			clear(open)
		} else {
			delete(open, user)
		}
		for _, c := range conns {
			open.add(c.AuthorizedUser, c.Cid)
		}
		for _, d := range duplicatesIn(conns) {
			newest := slices.MaxFunc(d.Conns, func(a, b Conn) int { return cmp.Compare(a.ID, b.ID) }).ID
			r := reported[d.PublicKey]
			if r.newest >= newest {
				continue // reported already
			}
			b.log.Warn("natsbus: a device is connected more than once; its credentials were copied or it reconnected over a dead connection",
				"device", d.DeviceID, "detail", d.String())
			if time.Since(r.at) < duplicateReportGap {
				reported[d.PublicKey] = report{newest: newest, at: r.at}
				continue
			}
			reported[d.PublicKey] = report{newest: newest, at: time.Now()}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			b.cfg.OnDuplicateConnection(ctx, d)
			cancel()
		}
	}
}

// DuplicateConnections lists the device keys that are on more than one
// connection now, on every server of the account that answers within a
// second or two.
func (b *Bus) DuplicateConnections(ctx context.Context) ([]DuplicateConnection, error) {
	return b.duplicates(ctx, "")
}

// duplicates lists the device keys on more than one connection, among the
// connections of user key (all when "").
func (b *Bus) duplicates(ctx context.Context, user string) ([]DuplicateConnection, error) {
	conns, err := b.accountConns(ctx, user)
	if err != nil {
		return nil, err
	}
	return duplicatesIn(conns), nil
}

// duplicatesIn lists the device keys on more than one of conns.
func duplicatesIn(conns []*server.ConnInfo) []DuplicateConnection {
	byKey := map[string][]*server.ConnInfo{}
	for _, c := range conns {
		if c.JWT == "" || !nkeys.IsValidPublicUserKey(c.AuthorizedUser) {
			continue
		}
		byKey[c.AuthorizedUser] = append(byKey[c.AuthorizedUser], c)
	}
	var out []DuplicateConnection
	for key, cs := range byKey {
		if len(cs) < 2 {
			continue
		}
		// Only a key on two connections has its JWT decoded (the server
		// checked each at connect): one per connection is the common case.
		d := DuplicateConnection{PublicKey: key}
		for _, c := range cs {
			uc, err := jwt.DecodeUserClaims(c.JWT)
			if err != nil || uc.Subject != key || !wire.ValidDeviceID(uc.Name) {
				continue // the control plane's own users, or not ours
			}
			d.DeviceID = uc.Name
			d.Conns = append(d.Conns, Conn{ID: c.Cid, Addr: net.JoinHostPort(c.IP, strconv.Itoa(c.Port)),
				Name: c.Name, Start: c.Start, LastActivity: c.LastActivity})
		}
		if len(d.Conns) > 1 {
			slices.SortFunc(d.Conns, func(a, b Conn) int { return a.Start.Compare(b.Start) })
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b DuplicateConnection) int { return cmp.Compare(a.DeviceID, b.DeviceID) })
	return out
}

// accountConns asks every server for the bus account's open client
// connections (of user key only, unless ""), with their users and JWTs.
// (The server describes every connection of the account, JWT checked
// again, whatever page is asked for: a page at a time would cost the whole
// list per page.) The first answer is awaited up to two seconds, each
// further one (other servers of a cluster) 250 ms.
func (b *Bus) accountConns(ctx context.Context, user string) ([]*server.ConnInfo, error) {
	b.connLists.Add(1)
	req, _ := json.Marshal(server.ConnzEventOptions{ConnzOptions: server.ConnzOptions{
		Username: true, User: user, State: server.ConnOpen, Limit: 1 << 20,
	}})
	inbox := b.nc.NewInbox()
	answers := make(chan *nats.Msg, 64)
	sub, err := b.nc.ChanSubscribe(inbox, answers)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := b.nc.PublishRequest("$SYS.REQ.ACCOUNT.PING.CONNZ", inbox, req); err != nil {
		return nil, err
	}
	var conns []*server.ConnInfo
	wait := 2 * time.Second
	for n := 0; ; n++ {
		var msg *nats.Msg
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
			if n == 0 {
				return nil, fmt.Errorf("no server answered the connection list request")
			}
			return conns, nil
		case msg = <-answers:
			t.Stop()
		}
		var resp struct {
			Data  *server.Connz `json:"data"`
			Error *struct {
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg.Data, &resp); err != nil {
			return nil, fmt.Errorf("connection list: %w", err)
		} else if resp.Error != nil {
			return nil, fmt.Errorf("connection list: %s", resp.Error.Description)
		} else if resp.Data != nil {
			conns = append(conns, resp.Data.Conns...)
		}
		if b.srv != nil {
			return conns, nil // the embedded server is the only one
		}
		wait = 250 * time.Millisecond
	}
}

// watchConnects subscribes, as a system user of the embedded server, to the
// bus account's connect and disconnect advisories and hands each to the
// duplicate watcher.
func (b *Bus) watchConnects(caCert *x509.Certificate, advisories chan<- advisory) (*nats.Conn, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, err
	}
	pub, _ := kp.PublicKey()
	connects := fmt.Sprintf("$SYS.ACCOUNT.%s.CONNECT", b.accPub)
	disconnects := fmt.Sprintf("$SYS.ACCOUNT.%s.DISCONNECT", b.accPub)
	uc := jwt.NewUserClaims(pub)
	uc.Name = serviceName + "-advisories"
	uc.Sub.Allow.Add(connects, disconnects)
	uc.Pub.Deny.Add(">")
	token, err := uc.Encode(b.keys.systemAccount)
	if err != nil {
		return nil, err
	}
	seed, _ := kp.Seed()
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	nc, err := nats.Connect(b.ClientURL(), nats.UserJWTAndSeed(token, string(seed)), nats.Name(uc.Name), nats.TLSHandshakeFirst(),
		nats.Secure(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: "127.0.0.1"}),
		nats.MaxReconnects(-1))
	if err != nil {
		return nil, err
	}
	// Both subjects feed one channel, in the order the server sent them
	// (a connection's disconnect before its device's reconnect).
	msgs := make(chan *nats.Msg, cap(advisories))
	for _, subject := range []string{connects, disconnects} {
		if _, err := nc.ChanSubscribe(subject, msgs); err != nil {
			nc.Close()
			return nil, err
		}
	}
	go func() {
		for {
			var m *nats.Msg
			select {
			case <-b.stop:
				return
			case m = <-msgs:
			}
			// Both advisories carry the client as "client".
			var ev server.ConnectEventMsg
			if json.Unmarshal(m.Data, &ev) != nil || !nkeys.IsValidPublicUserKey(ev.Client.User) {
				continue
			}
			select {
			case advisories <- advisory{user: ev.Client.User, cid: ev.Client.ID, open: m.Subject == connects}:
			default: // a storm of connects: the periodic check covers the rest
			}
		}
	}()
	return nc, nc.Flush()
}
