package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fedid/fedid"
)

// PutSession stores temporary credentials.
func (s *Store) PutSession(ctx context.Context, se fedid.Session) error {
	tags, err := json.Marshal(se.Tags)
	if err != nil {
		return fmt.Errorf("sqlite: put session: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO sessions (access_key_id, secret, token_hash, account, role_arn, identity_id, pool_id, tags, created_ns, expires_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		se.AccessKeyID, se.Secret, se.TokenHash, se.Account, se.RoleARN, se.IdentityID, se.PoolID, string(tags), ns(se.CreatedAt), ns(se.ExpiresAt))
	return wrap("put session", err)
}

// GetSession returns the session of an access key ID.
func (s *Store) GetSession(ctx context.Context, accessKeyID string) (*fedid.Session, error) {
	var se fedid.Session
	var tags string
	var created, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT access_key_id, secret, token_hash, account, role_arn, identity_id, pool_id, tags, created_ns, expires_ns
		FROM sessions WHERE access_key_id = ?`, accessKeyID).
		Scan(&se.AccessKeyID, &se.Secret, &se.TokenHash, &se.Account, &se.RoleARN, &se.IdentityID, &se.PoolID, &tags, &created, &expires)
	if err != nil {
		return nil, wrap("get session", err)
	}
	se.CreatedAt, se.ExpiresAt = fromNS(created), fromNS(expires)
	if err := json.Unmarshal([]byte(tags), &se.Tags); err != nil {
		return nil, fmt.Errorf("sqlite: session tags: %w", err)
	}
	return &se, nil
}

// DeleteSessionsBefore deletes sessions that expired before t.
func (s *Store) DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_ns < ?`, ns(t))
	if err != nil {
		return 0, wrap("delete sessions", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
