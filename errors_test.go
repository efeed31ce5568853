package fedid

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipTo(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc..."},
		{"żółw", 2, "żó..."}, // characters, never a byte of one
		{"", 0, ""},
	} {
		if got := ClipTo(tc.in, tc.n); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("ClipTo(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if got := Clip(strings.Repeat("é", 1000)); utf8.RuneCountInString(got) != ClipLen+3 {
		t.Errorf("Clip kept %d characters", utf8.RuneCountInString(got))
	}
}
