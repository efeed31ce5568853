package sqlstore

import "testing"

func TestTranslate(t *testing.T) {
	sqlite := Dialect{Words: map[string]string{"BIGINT": "INTEGER", "FALSE": "0"}}
	sqlite.compile()
	pg := Dialect{Numbered: true}
	pg.compile()
	for _, tc := range []struct {
		d        *Dialect
		in, want string
	}{
		{&sqlite, `x BIGINT NOT NULL, y BIGINTEGER, FALSEHOOD = FALSE AND z = ?`, `x INTEGER NOT NULL, y BIGINTEGER, FALSEHOOD = 0 AND z = ?`},
		{&pg, `a = ? AND (b, c) > (?, ?) LIMIT ?`, `a = $1 AND (b, c) > ($2, $3) LIMIT $4`},
		{&pg, `x BIGINT, y = FALSE`, `x BIGINT, y = FALSE`},
	} {
		if got := tc.d.translate(tc.in); got != tc.want {
			t.Errorf("translate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
