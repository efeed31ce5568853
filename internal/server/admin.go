package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/awsjson"
	"github.com/fedid/fedid/internal/identity"
)

// AdminTargetPrefix is the X-Amz-Target prefix of fedid's own operations,
// for what AWS has no API for (signing keys, access keys). They are served
// on POST / like the service's operations, verified by the same SigV4
// verifier (service cognito-identity), and refused to temporary
// credentials.
const AdminTargetPrefix = "Fedid."

// Admin is what the admin operations read and change.
type Admin interface {
	// SigningKeys lists the deployment's signing keys (never their
	// private parts).
	SigningKeys(ctx context.Context) ([]SigningKeyInfo, error)
	// RotateSigningKey publishes a new signing key now (it signs after the
	// publication lead), for a caller of the given account: the keys sign
	// every account's tokens, so only the deployment's own account (the
	// one of its configured key) may rotate them; others get an
	// AccessDenied *fedid.Error.
	RotateSigningKey(ctx context.Context, account string) error
	// AccessKeys lists the access keys of an account (never their
	// secrets), newest first.
	AccessKeys(ctx context.Context, account string) ([]AccessKeyInfo, error)
}

// SigningKeyInfo is one signing key as the admin operations show it.
type SigningKeyInfo struct {
	KeyId string `json:"KeyId"`
	// State is "next" (published, not signing yet), "current" (signing)
	// or "retired" (published until its tokens expire).
	State     string     `json:"State"`
	CreatedAt time.Time  `json:"CreatedAt"`
	ActiveAt  time.Time  `json:"ActiveAt"`
	RetiredAt *time.Time `json:"RetiredAt,omitempty"`
	ExpiresAt *time.Time `json:"ExpiresAt,omitempty"`
}

// AccessKeyInfo is one access key without its secret.
type AccessKeyInfo struct {
	AccessKeyId string     `json:"AccessKeyId"`
	Account     string     `json:"Account"`
	CreatedAt   *time.Time `json:"CreatedAt,omitempty"`
	LastUsed    *time.Time `json:"LastUsed,omitempty"`
	// Builtin marks the test key test/test (not stored).
	Builtin bool `json:"Builtin,omitempty"`
}

// AdminOperationNames are the admin operations, without the prefix.
var AdminOperationNames = []string{"ListSigningKeys", "RotateSigningKey", "ListAccessKeys", "ListRecentRequests", "ExplainRole", "FindLogin"}

type listSigningKeysOutput struct {
	Keys []SigningKeyInfo `json:"Keys"`
}

type listAccessKeysOutput struct {
	AccessKeys []AccessKeyInfo `json:"AccessKeys"`
}

// adminOperations is the table of admin operations; each is signed. They
// take an empty JSON object.
func adminOperations(a Admin) map[string]operation {
	if a == nil {
		return nil
	}
	empty := func(body []byte) error {
		var in struct{}
		return decodeEmpty(body, &in)
	}
	listKeys := func(ctx context.Context, _ fedid.Caller, body []byte) (any, error) {
		if err := empty(body); err != nil {
			return nil, err
		}
		keys, err := a.SigningKeys(ctx)
		if err != nil {
			return nil, fedid.Internal("list signing keys", err)
		}
		return &listSigningKeysOutput{Keys: keys}, nil
	}
	return map[string]operation{
		AdminTargetPrefix + "ListSigningKeys": {signed: true, run: listKeys},
		AdminTargetPrefix + "RotateSigningKey": {signed: true, run: func(ctx context.Context, c fedid.Caller, body []byte) (any, error) {
			if err := empty(body); err != nil {
				return nil, err
			}
			if err := a.RotateSigningKey(ctx, c.Account); err != nil {
				if fedid.ErrorKind(err) == fedid.KindAccessDenied {
					return nil, err
				}
				return nil, fedid.Internal("rotate signing key", err)
			}
			return listKeys(ctx, c, nil)
		}},
		AdminTargetPrefix + "ListAccessKeys": {signed: true, run: func(ctx context.Context, c fedid.Caller, body []byte) (any, error) {
			if err := empty(body); err != nil {
				return nil, err
			}
			keys, err := a.AccessKeys(ctx, c.Account)
			if err != nil {
				return nil, fedid.Internal("list access keys", err)
			}
			if keys == nil {
				keys = []AccessKeyInfo{}
			}
			return &listAccessKeysOutput{AccessKeys: keys}, nil
		}},
	}
}

// operationName reads the target of an API request: a cognito-identity
// operation (without its prefix) or, with an Admin configured, an admin
// operation (with its "Fedid." prefix, as metrics and logs name it).
func (s *Server) operationName(r *http.Request) (string, error) {
	if s.admin != nil {
		if t := r.Header.Get("X-Amz-Target"); strings.HasPrefix(t, AdminTargetPrefix) {
			if _, ok := s.admin[t]; ok {
				return t, nil
			}
		}
	}
	return awsjson.Operation(r)
}

// decodeEmpty reads an admin operation's input, an empty JSON object.
func decodeEmpty(body []byte, in *struct{}) error { return awsjson.Decode(body, in) }

// explainRole is Fedid.ExplainRole: the role GetCredentialsForIdentity
// would choose and why, for an identity of the caller's account, with the
// exception name of a refusal filled in.
func explainRole(svc *identity.Service) func(context.Context, fedid.Caller, *identity.GetCredentialsForIdentityInput) (*identity.ExplainRoleOutput, error) {
	return func(ctx context.Context, c fedid.Caller, in *identity.GetCredentialsForIdentityInput) (*identity.ExplainRoleOutput, error) {
		out, err := svc.ExplainRole(ctx, c, in)
		if err == nil && out.Error != nil {
			out.Error.Code = awsjson.ExceptionFor(out.Error.Kind).Type
		}
		return out, err
	}
}
