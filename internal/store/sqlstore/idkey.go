package sqlstore

import (
	"encoding/hex"
	"strings"
)

// An identity ID is "<region>:<rest>", and its region is its pool's: the
// store keeps only the rest, as its key. fedid makes the rest a UUID,
// kept as its 16 bytes; any other rest (tests use short ones, the
// contract allows them) is kept as its own bytes, with one more zero byte
// when it is 16 bytes or longer, so that no key of another ID is 16 bytes
// long. For the UUIDs of one region, the order of the keys is that of the
// IDs as strings (lowercase hex sorts as its bytes do).

// uuidLen is the length of a UUID's canonical text.
const uuidLen = 36

// identityKey splits an identity ID into its region and its stored key.
func identityKey(id string) (region string, key []byte) {
	region, rest, ok := strings.Cut(id, ":")
	if !ok {
		region, rest = "", id
	}
	if b, ok := parseUUID(rest); ok {
		return region, b
	}
	key = make([]byte, len(rest), len(rest)+1)
	copy(key, rest)
	if len(key) >= 16 {
		key = append(key, 0)
	}
	return region, key
}

// keyOf is the stored key of an identity ID, whatever its region.
func keyOf(id string) []byte {
	_, k := identityKey(id)
	return k
}

// identityID is the ID of the identity of region whose key is key.
func identityID(region string, key []byte) string {
	switch {
	case len(key) == 16:
		var b [uuidLen]byte
		hex.Encode(b[0:8], key[0:4])
		b[8] = '-'
		hex.Encode(b[9:13], key[4:6])
		b[13] = '-'
		hex.Encode(b[14:18], key[6:8])
		b[18] = '-'
		hex.Encode(b[19:23], key[8:10])
		b[23] = '-'
		hex.Encode(b[24:], key[10:])
		return region + ":" + string(b[:])
	case len(key) > 16:
		key = key[:len(key)-1]
	}
	return region + ":" + string(key)
}

// parseUUID returns the 16 bytes of a UUID in canonical lowercase text.
func parseUUID(s string) ([]byte, bool) {
	if len(s) != uuidLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	b := make([]byte, 16)
	j := 0
	for i := 0; i < uuidLen; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i-- // the dash; the next pair starts after it
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		b[j] = hi<<4 | lo
		j++
	}
	return b, j == 16
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
