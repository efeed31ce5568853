package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/awsjson"
)

// SessionReader reads the temporary credentials fedid issued.
type SessionReader interface {
	GetSession(ctx context.Context, accessKeyID string) (*fedid.Session, error)
}

// describeCredentialsOutput tells who is behind temporary credentials.
type describeCredentialsOutput struct {
	AccessKeyId    string            `json:"AccessKeyId"`
	IdentityId     string            `json:"IdentityId"`
	IdentityPoolId string            `json:"IdentityPoolId"`
	RoleArn        string            `json:"RoleArn"`
	AssumedRoleArn string            `json:"AssumedRoleArn"`
	PrincipalTags  map[string]string `json:"PrincipalTags,omitempty"`
	Expiration     time.Time         `json:"Expiration"`
}

// describeCredentials answers POST /fedid/describe-credentials
// {"AccessKeyId": "ASIA…"}, signed like the API (service
// cognito-identity) by an access key of the account that owns the
// identity's pool; to anyone else the credentials do not exist.
func (s *Server) describeCredentials(w http.ResponseWriter, r *http.Request) {
	w.Header()["x-amzn-RequestId"] = []string{requestID()}
	out, err := s.describe(r)
	if err != nil {
		awsjson.WriteError(w, err)
		return
	}
	_ = awsjson.WriteJSON(w, out)
}

func (s *Server) describe(r *http.Request) (*describeCredentialsOutput, error) {
	if s.cfg.Sessions == nil {
		return nil, fedid.Errorf(fedid.KindNotImplemented, "Local credentials are not enabled.")
	}
	c, body, err := s.accountPost(r, "describe credentials")
	if err != nil {
		return nil, err
	}
	var in struct {
		AccessKeyId *string `json:"AccessKeyId"`
	}
	if err := awsjson.Decode(body, &in); err != nil {
		return nil, err
	}
	if in.AccessKeyId == nil || *in.AccessKeyId == "" || len(*in.AccessKeyId) > 128 {
		return nil, fedid.Errorf(fedid.KindValidation, "1 validation error detected: Value null at 'accessKeyId' failed to satisfy constraint: Member must not be null")
	}
	se, err := s.cfg.Sessions.GetSession(r.Context(), *in.AccessKeyId)
	notFound := fedid.Errorf(fedid.KindResourceNotFound, "Credentials '%s' not found.", fedid.Clip(*in.AccessKeyId))
	if errors.Is(err, fedid.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, fedid.Internal("get session", err)
	}
	if se.Account != c.Account || !s.now().Before(se.ExpiresAt) {
		return nil, notFound
	}
	return &describeCredentialsOutput{AccessKeyId: se.AccessKeyID, IdentityId: se.IdentityID, IdentityPoolId: se.PoolID,
		RoleArn: se.RoleARN, AssumedRoleArn: fedid.AssumedRoleARN(se.RoleARN), PrincipalTags: se.Tags, Expiration: se.ExpiresAt}, nil
}

// accountPost reads a POST to one of fedid's own paths (not POST /), signed
// by an account's access key: temporary credentials may not do what
// (AccessDenied).
func (s *Server) accountPost(r *http.Request, what string) (fedid.Caller, []byte, error) {
	if r.Method != http.MethodPost {
		return fedid.Caller{}, nil, fedid.Errorf(fedid.KindUnknownOperation, "Use POST.")
	}
	body, err := awsjson.ReadBody(r)
	if err != nil {
		return fedid.Caller{}, nil, err
	}
	c, err := s.cfg.Verifier.Verify(r.Context(), r, body)
	if err != nil {
		return fedid.Caller{}, nil, err
	}
	if c.Session {
		return fedid.Caller{}, nil, fedid.Errorf(fedid.KindAccessDenied, "User: %s is not authorized to %s", c.ARN, what)
	}
	return c, body, nil
}
