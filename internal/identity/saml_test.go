package identity

import (
	"testing"

	"github.com/fedid/fedid"
)

func TestResolveRoleSAML(t *testing.T) {
	const (
		prov = "arn:aws:iam::000000000000:saml-provider/corp"
		a    = "arn:aws:iam::000000000000:role/a"
		b    = "arn:aws:iam::000000000000:role/b"
		def  = "arn:aws:iam::000000000000:role/default"
	)
	pool := &fedid.Pool{Roles: map[string]string{"authenticated": def}}
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name   string
		roles  []string
		custom *string
		want   string
		kind   fedid.Kind
	}{
		{"one role", []string{a}, nil, a, 0},
		{"one role, named", []string{a}, str(a), a, 0},
		{"one role, another named", []string{a}, str(b), "", fedid.KindNotAuthorized},
		{"one role, the pool's default named", []string{a}, str(def), "", fedid.KindNotAuthorized},
		{"two roles, one named", []string{a, b}, str(b), b, 0},
		{"two roles, none named", []string{a, b}, nil, "", fedid.KindInvalidParameter},
		{"two roles, another named", []string{a, b}, str(def), "", fedid.KindNotAuthorized},
		{"no Role attribute: the pool's role", nil, nil, def, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			au := &authenticated{pool: pool, logins: []*fedid.VerifiedLogin{{Provider: prov, Key: "alice", Roles: tc.roles}}}
			got, _, err := resolveRole(au, tc.custom)
			if tc.kind != 0 {
				if fedid.ErrorKind(err) != tc.kind {
					t.Fatalf("got %q %v, want kind %v", got, err, tc.kind)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}
