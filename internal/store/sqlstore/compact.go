package sqlstore

import (
	"context"
	"strings"
)

// fillIdentityKeys is the Go step of migration 6: it writes the stored key
// of every identity ID (identityKey) into identity_keys_c, from which the
// SQL after it copies identities and logins into their compact tables.
// It pages through the IDs, so that a large store needs no more memory
// than a page.
func fillIdentityKeys(ctx context.Context, s *SQL, tx Querier) error {
	const page = 500
	read := s.translate(`SELECT id FROM identities WHERE id > ? ORDER BY id LIMIT ?`)
	write := make(map[int]string)
	last := ""
	for {
		rows, err := tx.Query(ctx, read, last, page)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil || len(ids) == 0 {
			return err
		}
		q, ok := write[len(ids)]
		if !ok {
			q = s.translate(`INSERT INTO identity_keys_c (id, key) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, len(ids)-1))
			write[len(ids)] = q
		}
		args := make([]any, 0, 2*len(ids))
		for _, id := range ids {
			args = append(args, id, keyOf(id))
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		last = ids[len(ids)-1]
	}
}
