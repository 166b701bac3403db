package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/doorman-dev/doorman"
)

// UnsubscribePath is the path of the one-click unsubscribe endpoint (RFC
// 8058), followed by its token.
const UnsubscribePath = "/unsubscribe?t="

// preferenceReader is what ResidentWants reads.
type preferenceReader interface {
	ResidentPreferences(ctx context.Context, residentID string) (doorman.ResidentPreferences, error)
}

// ResidentWants reports whether the resident wants messages of kind,
// by their preferences (doorman.PreferenceOf): producers call it before
// making a resident's email, and make none when it is false. A resident
// who is gone wants nothing.
func ResidentWants(ctx context.Context, store preferenceReader, residentID, kind string) (bool, error) {
	if doorman.PreferenceOf(kind) == "" {
		return true, nil
	}
	p, err := store.ResidentPreferences(ctx, residentID)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return p.Wants(kind), nil
}

// unsubscribeMAC is the signature of a token for resident and kind.
func (o *Outbox) unsubscribeMAC(ctx context.Context, residentID, kind string) ([]byte, error) {
	key, err := o.store.OutboxKey(ctx, "unsubscribe")
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("doorman unsubscribe\x00" + residentID + "\x00" + kind))
	return mac.Sum(nil), nil
}

// UnsubscribeToken returns the one-click unsubscribe token of m: signed,
// bound to its resident and its kind's preference. It returns "" for a
// message that has no resident or whose kind no preference governs.
func (o *Outbox) UnsubscribeToken(ctx context.Context, m *doorman.Message) (string, error) {
	pref := doorman.PreferenceOf(m.Kind)
	if m.ResidentID == "" || pref == "" {
		return "", nil
	}
	sum, err := o.unsubscribeMAC(ctx, m.ResidentID, pref)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(m.ResidentID+"|"+pref)) + "." + enc.EncodeToString(sum), nil
}

// Unsubscribe turns off, for the resident a token names, the preference
// it names; anyone holding the token may call it (the mail's
// List-Unsubscribe link). It returns the preference turned off. Returns
// EUNAUTHORIZED for a token that is not Doorman's; a resident who is gone
// is unsubscribed already.
func (o *Outbox) Unsubscribe(ctx context.Context, token string) (string, error) {
	bad := doorman.Errorf(doorman.EUNAUTHORIZED, "This unsubscribe link does not work: it is incomplete. Use the link in the newest mail, or change your preferences on your page.")
	enc := base64.RawURLEncoding
	body, sig, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok || len(token) > 400 {
		return "", bad
	}
	raw, err1 := enc.DecodeString(body)
	got, err2 := enc.DecodeString(sig)
	resident, pref, ok := strings.Cut(string(raw), "|")
	if err1 != nil || err2 != nil || !ok || !doorman.HasPrefix(resident, doorman.PrefixResident) ||
		(pref != doorman.PreferenceDelivery && pref != doorman.PreferenceEntry) {
		return "", bad
	}
	want, err := o.unsubscribeMAC(ctx, resident, pref)
	if err != nil {
		return "", err
	}
	if !hmac.Equal(got, want) {
		return "", bad
	}
	p, err := o.store.ResidentPreferences(ctx, resident)
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return pref, nil
	} else if err != nil {
		return "", err
	}
	err = o.store.SetResidentPreferences(ctx, resident, p.Without(pref+"."))
	if doorman.ErrorCode(err) == doorman.ENOTFOUND {
		return pref, nil
	}
	return pref, err
}
