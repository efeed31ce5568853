package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Seeded IDs are version-4 UUIDs, sorted within a batch and above every ID
// of the batches before.
func TestSeedIDs(t *testing.T) {
	const batches = 7
	var last string
	seen := map[string]bool{}
	for b := range batches {
		ids := seedIDs("eu-west-1", b, batches, 500)
		if !slices.IsSorted(ids) {
			t.Fatalf("batch %d is not sorted", b)
		}
		for _, id := range ids {
			u, err := uuid.Parse(strings.TrimPrefix(id, "eu-west-1:"))
			if err != nil || !strings.HasPrefix(id, "eu-west-1:") || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != strings.TrimPrefix(id, "eu-west-1:") {
				t.Fatalf("%q is no lowercase version-4 UUID (%v)", id, err)
			}
			if id <= last || seen[id] {
				t.Fatalf("batch %d: %q is not above %q", b, id, last)
			}
			seen[id] = true
		}
		last = ids[len(ids)-1]
	}
	// The last slice reaches the top of the range.
	if ids := seedIDs("r", 0, 1, 2000); ids[len(ids)-1] < "r:f" {
		t.Fatalf("one batch spans the range: highest %s", ids[len(ids)-1])
	}
}
