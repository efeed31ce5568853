package sqlstore

import (
	"context"

	"github.com/fedid/fedid"
)

// PutSAMLProvider stores or replaces a SAML provider; its creation time
// stays that of the first registration.
func (s *Store) PutSAMLProvider(ctx context.Context, p fedid.SAMLProvider) error {
	_, err := s.w.Exec(ctx, s.s.putSAML, p.ARN, p.Account, p.Name, p.Metadata, ns(p.ValidUntil), ns(p.CreatedAt))
	return s.s.Wrap("put SAML provider", err)
}

// GetSAMLProvider returns a SAML provider by ARN.
func (s *Store) GetSAMLProvider(ctx context.Context, arn string) (*fedid.SAMLProvider, error) {
	p, err := scanSAML(s.q.QueryRow(ctx, s.s.getSAML, arn))
	if err != nil {
		return nil, s.s.Wrap("get SAML provider", err)
	}
	return p, nil
}

// ListSAMLProviders lists an account's SAML providers ("": every
// account's), by ARN.
func (s *Store) ListSAMLProviders(ctx context.Context, account string) ([]fedid.SAMLProvider, error) {
	query, args := s.s.listSAML, []any{account}
	if account == "" {
		query, args = s.s.listAllSAML, nil
	}
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, s.s.Wrap("list SAML providers", err)
	}
	defer rows.Close()
	var out []fedid.SAMLProvider
	for rows.Next() {
		p, err := scanSAML(rows)
		if err != nil {
			return nil, s.s.Wrap("list SAML providers", err)
		}
		out = append(out, *p)
	}
	return out, s.s.Wrap("list SAML providers", rows.Err())
}

// DeleteSAMLProvider deletes a SAML provider; ErrNotFound when absent.
func (s *Store) DeleteSAMLProvider(ctx context.Context, arn string) error {
	n, err := s.w.Exec(ctx, s.s.deleteSAML, arn)
	if err != nil {
		return s.s.Wrap("delete SAML provider", err)
	}
	if n == 0 {
		return s.s.errorf("delete SAML provider: %w", fedid.ErrNotFound)
	}
	return nil
}

func scanSAML(row scanner) (*fedid.SAMLProvider, error) {
	var p fedid.SAMLProvider
	var validUntil, created int64
	if err := row.Scan(&p.ARN, &p.Account, &p.Name, &p.Metadata, &validUntil, &created); err != nil {
		return nil, err
	}
	p.ValidUntil, p.CreatedAt = fromNS(validUntil), fromNS(created)
	return &p, nil
}
