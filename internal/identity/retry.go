package identity

import (
	"context"
	"errors"

	"github.com/fedid/fedid"
)

// maxAttempts bounds the retries of an operation that lost a uniqueness
// race (two first calls for one new developer user): the loser re-reads and
// finds what the winner stored.
const maxAttempts = 5

// updateRetry runs fn in a write transaction, again when it lost a
// uniqueness race (at most maxAttempts times). The one retry loop of the
// rules: the store retries its own serialization failures.
func (s *Service) updateRetry(ctx context.Context, op string, fn func(tx fedid.Tx) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = s.store.Update(ctx, fn)
		if !errors.Is(err, fedid.ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return storeErr(op, err)
	}
	return nil
}
