package sqlstore

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestIdentityKeys(t *testing.T) {
	ids := []string{"us-east-1:i1", "us-east-1:", "eu-west-1:x", "us-east-1:abcdefghijklmnop", "us-east-1:abcdefghijklmnopq",
		"us-east-1:abcdefghijklmno", "us-east-1:" + strings.ToUpper(uuid.NewString()), "us-east-1:" + uuid.NewString()[:35] + "g",
		"us-east-1:a:b", "us-east-1:0123456789abcdef0123456789abcdef0000"}
	for range 50 {
		ids = append(ids, "us-east-1:"+uuid.NewString())
	}
	seen := map[string]string{}
	for _, id := range ids {
		region, key := identityKey(id)
		if got := identityID(region, key); got != id {
			t.Errorf("%q -> %x -> %q", id, key, got)
		}
		_, rest, _ := strings.Cut(id, ":")
		if _, err := uuid.Parse(rest); (len(key) == 16) != (err == nil && rest == strings.ToLower(rest) && len(rest) == 36) {
			t.Errorf("%q: key of %d bytes", id, len(key))
		}
		if other, ok := seen[string(key)]; ok && region == "us-east-1" {
			t.Errorf("%q and %q share key %x", id, other, key)
		}
		seen[string(key)] = id
	}
	// The keys of one region's UUIDs sort as the IDs do.
	uuids := ids[len(ids)-50:]
	byKey := append([]string(nil), uuids...)
	sort.Slice(byKey, func(i, j int) bool { return bytes.Compare(keyOf(byKey[i]), keyOf(byKey[j])) < 0 })
	sort.Strings(uuids)
	if strings.Join(byKey, " ") != strings.Join(uuids, " ") {
		t.Errorf("key order\n%v\nID order\n%v", byKey, uuids)
	}
}
