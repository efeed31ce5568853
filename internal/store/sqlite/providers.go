package sqlite

import (
	"context"
	"fmt"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/codec"
)

// PutOIDCProvider stores or replaces an OIDC provider.
func (s *Store) PutOIDCProvider(ctx context.Context, p fedid.OIDCProvider) error {
	doc, err := codec.EncodeOIDCProvider(&p)
	if err != nil {
		return fmt.Errorf("sqlite: put OIDC provider: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO oidc_providers (arn, account, url, config, created_ns) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (arn) DO UPDATE SET account = excluded.account, url = excluded.url, config = excluded.config`,
		p.ARN, p.Account, p.URL, doc, ns(p.CreatedAt))
	return wrap("put OIDC provider", err)
}

// GetOIDCProvider returns an OIDC provider by ARN.
func (s *Store) GetOIDCProvider(ctx context.Context, arn string) (*fedid.OIDCProvider, error) {
	p, err := scanProvider(s.r.QueryRowContext(ctx, `SELECT arn, account, url, config, created_ns FROM oidc_providers WHERE arn = ?`, arn))
	if err != nil {
		return nil, wrap("get OIDC provider", err)
	}
	return p, nil
}

// ListOIDCProviders lists an account's OIDC providers.
func (s *Store) ListOIDCProviders(ctx context.Context, account string) ([]fedid.OIDCProvider, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT arn, account, url, config, created_ns FROM oidc_providers WHERE account = ? ORDER BY arn`, account)
	if err != nil {
		return nil, wrap("list OIDC providers", err)
	}
	defer rows.Close()
	var out []fedid.OIDCProvider
	for rows.Next() {
		p, err := scanProvider(rows)
		if err != nil {
			return nil, wrap("list OIDC providers", err)
		}
		out = append(out, *p)
	}
	return out, wrap("list OIDC providers", rows.Err())
}

// DeleteOIDCProvider deletes an OIDC provider.
func (s *Store) DeleteOIDCProvider(ctx context.Context, arn string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM oidc_providers WHERE arn = ?`, arn)
	if err != nil {
		return wrap("delete OIDC provider", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: delete OIDC provider: %w", fedid.ErrNotFound)
	}
	return nil
}

func scanProvider(row scanner) (*fedid.OIDCProvider, error) {
	var p fedid.OIDCProvider
	var doc string
	var created int64
	if err := row.Scan(&p.ARN, &p.Account, &p.URL, &doc, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromNS(created)
	return &p, codec.DecodeOIDCProvider(&p, doc)
}
