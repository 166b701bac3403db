package natsbus

import (
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"

	"github.com/doorman-dev/doorman/wire"
)

// Names written into the JWTs, for people reading server logs.
const (
	operatorName = "doorman"
	accountName  = "DOORMAN"
	systemName   = "SYS"
	serviceName  = "doorman-control-plane"
)

// operatorJWT returns the self-signed operator JWT naming the system account.
func operatorJWT(k *authKeys) (*jwt.OperatorClaims, error) {
	opPub, _ := k.operator.PublicKey()
	sysPub, _ := k.systemAccount.PublicKey()
	oc := jwt.NewOperatorClaims(opPub)
	oc.Name = operatorName
	oc.SystemAccount = sysPub
	token, err := oc.Encode(k.operator)
	if err != nil {
		return nil, err
	}
	return jwt.DecodeOperatorClaims(token)
}

// systemAccountJWT returns the system account's JWT.
func systemAccountJWT(k *authKeys) (string, error) {
	sysPub, _ := k.systemAccount.PublicKey()
	ac := jwt.NewAccountClaims(sysPub)
	ac.Name = systemName
	return ac.Encode(k.operator)
}

// accountClaims returns the Doorman account's claims: JetStream with
// diskLimit bytes of file storage, 64 MiB of memory storage and every
// stream bounded, users issued by the signing key only, and the revoked
// device keys.
func accountClaims(k *authKeys, revocations map[string]int64, diskLimit int64) *jwt.AccountClaims {
	accPub, _ := k.account.PublicKey()
	skPub, _ := k.accountSigning.PublicKey()
	ac := jwt.NewAccountClaims(accPub)
	ac.Name = accountName
	ac.SigningKeys.Add(skPub)
	// Nothing is stored in JetStream (but an earlier version's event
	// stream, until it is drained): whatever a device (or a bug) makes the
	// account store, the server's disk is not filled, and a stream without
	// a size limit cannot even be created.
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{
		MemoryStorage: 64 << 20, DiskStorage: diskLimit, Streams: -1, Consumer: -1,
		MaxAckPending: -1, MemoryMaxStreamBytes: -1, DiskMaxStreamBytes: -1,
		MaxBytesRequired: true,
	}
	// Bearer tokens would let a stolen JWT connect without the device's
	// private key.
	ac.Limits.DisallowBearer = true
	for pub, at := range revocations {
		ac.RevokeAt(pub, time.Unix(at, 0))
	}
	return ac
}

// deviceClaims returns the user claims of the device deviceID of a door:
// it may publish its own events (on subjects naming its door and itself,
// of the known kinds only) and its door's time requests, subscribe to its
// door's commands and inbox, and answer the requests it receives. Nothing else:
// in particular not the events of another device of the same door, so an
// event's subject tells which device sent it.
//
// The server checks publish permissions against the subject, never the
// reply subject, so a device can still name another door's command subject
// as the reply of its request. The control plane answers only into the
// requesting door's own inbox, but the server itself sends a no-responders
// status there while nobody serves the subject; agents ignore messages
// without a reply subject for that reason.
func deviceClaims(accPub, doorID, deviceID, devicePub string) *jwt.UserClaims {
	uc := jwt.NewUserClaims(devicePub)
	uc.Name = deviceID
	uc.IssuerAccount = accPub
	for _, kind := range wire.EventKinds {
		uc.Pub.Allow.Add(wire.EventSubject(doorID, deviceID, kind))
	}
	uc.Pub.Allow.Add(wire.TimeSubject(doorID))
	uc.Sub.Allow.Add(wire.CommandSubject(doorID), wire.InboxPrefix(doorID)+".>")
	uc.Resp = &jwt.ResponsePermission{MaxMsgs: 1, Expires: wire.MaxCommandTTL}
	uc.Limits.Payload = wire.MaxMessageSize
	uc.Limits.Subs = 16
	uc.AllowedConnectionTypes.Add(jwt.ConnectionTypeStandard)
	return uc
}

// serviceClaims returns the user claims of the control plane's own
// connection: the whole account, including the JetStream API.
func serviceClaims(accPub, servicePub string) *jwt.UserClaims {
	uc := jwt.NewUserClaims(servicePub)
	uc.Name = serviceName
	uc.IssuerAccount = accPub
	return uc
}

// validUserKey reports whether s is a public NATS user key.
func validUserKey(s string) bool { return nkeys.IsValidPublicUserKey(s) }

// accountDiskLimit is the embedded account's JetStream file storage: the
// whole store, where an earlier version kept its event stream.
func (b *Bus) accountDiskLimit() int64 { return b.cfg.StoreMax }
