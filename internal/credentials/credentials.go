// Package credentials issues the temporary AWS credentials of
// GetCredentialsForIdentity, in one of two modes:
//
//   - Local: fedid mints credentials in AWS's format itself (an ASIA
//     access key, a 40-character secret, an opaque session token), stores
//     them with their expiry, and accepts them for SigV4 as that role's
//     session.
//   - STS: fedid exchanges its own OpenID token for the identity at an
//     STS-compatible endpoint with AssumeRoleWithWebIdentity and returns
//     what STS returns.
package credentials

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/fedid/fedid"
)

// DefaultTTL is the lifetime of issued credentials (the guide: at most an
// hour).
const DefaultTTL = time.Hour

// SessionStore is what the local issuer needs of the store.
type SessionStore interface {
	PutSession(ctx context.Context, s fedid.Session) error
}

// Local mints and records credentials fedid itself accepts.
type Local struct {
	store SessionStore
	clock fedid.Clock
	ttl   time.Duration
}

// NewLocal returns the local issuer.
func NewLocal(store SessionStore, clock fedid.Clock, ttl time.Duration) *Local {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if clock == nil {
		clock = fedid.SystemClock{}
	}
	return &Local{store: store, clock: clock, ttl: ttl}
}

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func random(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // len divides 256: no bias
	}
	return string(b)
}

// Issue implements fedid.CredentialIssuer.
func (l *Local) Issue(ctx context.Context, req *fedid.CredentialRequest) (*fedid.IssuedCredentials, error) {
	tok := make([]byte, 256)
	_, _ = rand.Read(tok)
	token := base64.StdEncoding.EncodeToString(tok)
	hash := sha256.Sum256([]byte(token))
	now := l.clock.Now().UTC()
	s := fedid.Session{
		AccessKeyID: "ASIA" + random(16, upperDigits),
		Secret:      random(40, secretChars),
		TokenHash:   hash[:],
		Account:     req.Pool.Account,
		RoleARN:     req.RoleARN,
		IdentityID:  req.IdentityID,
		PoolID:      req.Pool.ID,
		Tags:        req.Tags,
		CreatedAt:   now,
		ExpiresAt:   now.Add(l.ttl).Truncate(time.Second),
	}
	if err := l.store.PutSession(ctx, s); err != nil {
		return nil, fedid.Internal("store session", err)
	}
	return &fedid.IssuedCredentials{AccessKeyID: s.AccessKeyID, SecretKey: s.Secret, SessionToken: token, Expiration: s.ExpiresAt}, nil
}

// STS exchanges fedid's token at an STS-compatible endpoint.
type STS struct {
	client *sts.Client
	ttl    time.Duration
	clock  fedid.Clock
}

// NewSTS returns an issuer calling AssumeRoleWithWebIdentity at endpoint
// (AWS, LocalStack or moto) in region.
func NewSTS(endpoint, region string, clock fedid.Clock, ttl time.Duration) *STS {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	c := sts.New(sts.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		// AssumeRoleWithWebIdentity is an unsigned call.
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 2,
	})
	if clock == nil {
		clock = fedid.SystemClock{}
	}
	return &STS{client: c, ttl: ttl, clock: clock}
}

// stsRefusals are the STS error codes that mean "this role does not accept
// this identity": the service reports them as a pool configuration error.
var stsRefusals = map[string]bool{
	"AccessDenied": true, "InvalidIdentityToken": true, "IDPRejectedClaim": true,
	"MalformedPolicyDocument": true, "PackedPolicyTooLarge": true, "RegionDisabledException": true,
	"ExpiredTokenException": true, "ValidationError": true,
}

// Issue implements fedid.CredentialIssuer.
func (s *STS) Issue(ctx context.Context, req *fedid.CredentialRequest) (*fedid.IssuedCredentials, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := s.client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(req.RoleARN),
		RoleSessionName:  aws.String(fedid.SessionName),
		WebIdentityToken: aws.String(req.Token),
		DurationSeconds:  aws.Int32(int32(s.ttl / time.Second)),
	})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && stsRefusals[ae.ErrorCode()] {
			return nil, &fedid.Error{Kind: fedid.KindInvalidIdentityPoolConfiguration,
				Message: "Invalid identity pool configuration. Check assigned IAM roles for this pool.", Err: err}
		}
		return nil, &fedid.Error{Kind: fedid.KindExternalService, Message: "The credential issuer (STS) is not responding.", Err: err}
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil {
		return nil, &fedid.Error{Kind: fedid.KindExternalService, Message: "The credential issuer (STS) returned no credentials.",
			Err: fmt.Errorf("sts: empty credentials")}
	}
	exp := s.clock.Now().Add(s.ttl)
	if c.Expiration != nil {
		exp = *c.Expiration
	}
	return &fedid.IssuedCredentials{AccessKeyID: *c.AccessKeyId, SecretKey: *c.SecretAccessKey, SessionToken: *c.SessionToken, Expiration: exp}, nil
}
