package identity

import (
	"math/rand/v2"
	"testing"
)

// TestPatternMatchers holds each hand-written matcher to its regexp.
func TestPatternMatchers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aAzZ09_-:fg.é \x00"
	for _, p := range []pattern{patIdentityPoolID} {
		for _, s := range []string{"", ":", "a:", ":a", "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "a:b:c", "é:0", "a:0\n"} {
			if p.match(s) != p.re.MatchString(s) {
				t.Fatalf("%s on %q: %v, regexp %v", p.text, s, p.match(s), p.re.MatchString(s))
			}
		}
		for range 200000 {
			b := make([]byte, r.IntN(8))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			if s := string(b); p.match(s) != p.re.MatchString(s) {
				t.Fatalf("%s on %q: %v, regexp %v", p.text, s, p.match(s), p.re.MatchString(s))
			}
		}
	}
}
