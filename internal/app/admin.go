package app

import (
	"context"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/keys"
	"github.com/fedid/fedid/internal/server"
)

// admin serves fedid's own signed operations (server.Admin) over the
// signing key manager and the store.
type admin struct {
	km *keys.Manager
	st fedid.Store
	// testKey: test/test is accepted (for fedid.DefaultAccountID).
	testKey bool
	// operator is the deployment's own account (FEDID_ACCOUNT_ID, or
	// the default account), the one that may rotate signing keys.
	operator string
}

func (a admin) SigningKeys(ctx context.Context) ([]server.SigningKeyInfo, error) {
	ks, err := a.km.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]server.SigningKeyInfo, 0, len(ks))
	for _, k := range ks {
		out = append(out, server.SigningKeyInfo{KeyId: k.ID, State: string(k.State), CreatedAt: k.CreatedAt.UTC(),
			ActiveAt: k.ActiveAt.UTC(), RetiredAt: timePtr(k.RetiredAt), ExpiresAt: timePtr(k.ExpiresAt)})
	}
	return out, nil
}

func (a admin) RotateSigningKey(ctx context.Context, account string) error {
	if account != a.operator {
		return fedid.Errorf(fedid.KindAccessDenied, "The signing keys sign every account's tokens: only the deployment's own account may rotate them.")
	}
	return a.km.Rotate(ctx, true)
}

func (a admin) AccessKeys(ctx context.Context, account string) ([]server.AccessKeyInfo, error) {
	ks, err := a.st.ListAccessKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []server.AccessKeyInfo
	for _, k := range ks {
		if k.Account != account {
			continue
		}
		out = append(out, server.AccessKeyInfo{AccessKeyId: k.ID, Account: k.Account, CreatedAt: timePtr(k.Created), LastUsed: timePtr(k.LastUsed)})
	}
	if a.testKey && account == fedid.DefaultAccountID {
		out = append(out, server.AccessKeyInfo{AccessKeyId: "test", Account: account, Builtin: true})
	}
	return out, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
