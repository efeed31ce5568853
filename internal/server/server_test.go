package server

import (
	"testing"

	"github.com/google/uuid"
)

func TestRequestIDIsUUIDv4(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := requestID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("%q: %v version %v variant %v", id, err, u.Version(), u.Variant())
		}
		if seen[id] {
			t.Fatalf("%s twice", id)
		}
		seen[id] = true
	}
}
