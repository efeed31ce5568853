package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/store/sqlstore"
	"github.com/fedid/fedid/internal/store/storetest"
)

func TestSealed(t *testing.T) {
	storetest.RunSealed(t, func(t *testing.T) storetest.SealedEngine {
		path := filepath.Join(t.TempDir(), "fedid.db")
		var last *Store
		return storetest.SealedEngine{
			Open: func(t *testing.T, opts ...sqlstore.Option) (fedid.Store, error) {
				s, err := Open(t.Context(), path, opts...)
				if err != nil {
					return nil, err
				}
				last = s
				t.Cleanup(func() { s.Close() })
				return s, nil
			},
			Dump: func(t *testing.T) []byte {
				// Checkpointed (without truncating) while the store is
				// open, so that both the file and the WAL hold the rows;
				// Close truncates the WAL.
				if last != nil && last.w != nil {
					if _, err := last.w.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
						t.Logf("checkpoint: %v (closed store)", err)
					}
				}
				var all []byte
				for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
					b, err := os.ReadFile(path + suffix)
					if err == nil {
						all = append(all, b...)
					}
				}
				return all
			},
		}
	})
}

func TestConformanceSealed(t *testing.T) {
	k := storetest.MasterKey(t)
	storetest.Run(t, func(t *testing.T) fedid.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "fedid.db"), sqlstore.WithMasterKey(k))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
