package initfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid"
	"github.com/fedid/fedid/internal/identity"
	"github.com/fedid/fedid/internal/initfile"
	"github.com/fedid/fedid/internal/store/sqlite"
)

var ctx = context.Background()

type env struct {
	st  fedid.Store
	svc *identity.Service
}

func newEnv(t *testing.T) env {
	t.Helper()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "fedid.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return env{st, identity.New(identity.Deps{Store: st}, identity.Config{Issuer: "http://127.0.0.1"})}
}

func (e env) apply(t *testing.T, f *initfile.File) initfile.Result {
	t.Helper()
	r, err := initfile.Apply(ctx, f, e.st, e.svc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func load(t *testing.T, path string) *initfile.File {
	t.Helper()
	f, err := initfile.Load(path, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// write puts a file beside the example's JWKS file.
func write(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	jwks, err := os.ReadFile("../../examples/example-jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "example-jwks.json"), jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "init.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleAppliesIdempotently(t *testing.T) {
	e := newEnv(t)
	f := load(t, "../../examples/init.yaml")
	r := e.apply(t, f)
	if r.Created != 3 || r.Updated != 0 || r.Unchanged != 0 {
		t.Fatalf("first apply: %v", r)
	}
	// Everything the file says is there, under the IDs it gives.
	c := fedid.Caller{Account: "000000000000", Region: "us-east-1"}
	id := "us-east-1:2f3c6a1e-0000-4000-8000-000000000001"
	pool, err := e.svc.DescribeIdentityPool(ctx, c, &identity.PoolIDInput{IdentityPoolId: &id})
	if err != nil || pool.IdentityPoolName != "demo" || pool.DeveloperProviderName != "login.example" || pool.IdentityPoolTags["team"] != "blue" {
		t.Fatalf("pool %+v %v", pool, err)
	}
	roles, err := e.svc.GetIdentityPoolRoles(ctx, c, &identity.PoolIDInput{IdentityPoolId: &id})
	if err != nil || roles.Roles["authenticated"] != "arn:aws:iam::000000000000:role/demo-auth" || *roles.RoleMappings["login.example.com"].Type != "Rules" {
		t.Fatalf("roles %+v %v", roles, err)
	}
	owner, err := e.st.FindLogin(ctx, id, "login.example", "user1")
	if err != nil || owner != "us-east-1:2f3c6a1e-0000-4000-8000-0000000000a1" {
		t.Fatalf("user1 on %q %v", owner, err)
	}
	if _, err := e.st.FindLogin(ctx, id, "login.example", "user2"); err != nil {
		t.Fatalf("user2: %v", err)
	}
	other := initfile.IDFromName("123456789012", "eu-west-1", "other")
	if p, err := e.st.GetPool(ctx, other); err != nil || p.Account != "123456789012" || p.Region != "eu-west-1" {
		t.Fatalf("derived pool %s: %+v %v", other, p, err)
	}
	before, _ := e.st.GetPool(ctx, id)
	u2, _ := e.st.FindLogin(ctx, id, "login.example", "user2")

	// Again: nothing changes, not even a pool's version.
	r = e.apply(t, load(t, "../../examples/init.yaml"))
	if r.Created != 0 || r.Updated != 0 || r.Unchanged != 3 || r.NotInFile != 0 {
		t.Fatalf("second apply: %v", r)
	}
	after, _ := e.st.GetPool(ctx, id)
	if after.Version != before.Version {
		t.Fatalf("version %d -> %d", before.Version, after.Version)
	}
	if again, _ := e.st.FindLogin(ctx, id, "login.example", "user2"); again != u2 {
		t.Fatalf("user2 moved %s -> %s", u2, again)
	}
}

func TestChangedFieldUpdatesAndRemovedPoolStays(t *testing.T) {
	e := newEnv(t)
	text := `IdentityPools:
  - IdentityPoolId: us-east-1:2f3c6a1e-0000-4000-8000-000000000001
    IdentityPoolName: demo
    AllowUnauthenticatedIdentities: true
    IdentityPoolTags: {team: blue}
  - IdentityPoolName: second
    AllowUnauthenticatedIdentities: false
`
	e.apply(t, load(t, write(t, text)))
	changed := `IdentityPools:
  - IdentityPoolId: us-east-1:2f3c6a1e-0000-4000-8000-000000000001
    IdentityPoolName: renamed
    AllowUnauthenticatedIdentities: false
    Roles: {unauthenticated: "arn:aws:iam::000000000000:role/guest"}
`
	r := e.apply(t, load(t, write(t, changed)))
	if r.Updated != 1 || r.NotInFile != 1 {
		t.Fatalf("apply changed file: %v", r)
	}
	p, err := e.st.GetPool(ctx, "us-east-1:2f3c6a1e-0000-4000-8000-000000000001")
	if err != nil || p.Name != "renamed" || p.AllowUnauthenticated || len(p.Tags) != 0 || p.Roles["unauthenticated"] != "arn:aws:iam::000000000000:role/guest" {
		t.Fatalf("updated pool %+v %v", p, err)
	}
	if _, err := e.st.GetPool(ctx, initfile.IDFromName("000000000000", "us-east-1", "second")); err != nil {
		t.Fatalf("the pool left out of the file: %v", err)
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"unknown field", "IdentityPools:\n  - IdentityPoolName: a\n    AllowUnauthenticatedIdentities: true\n    allowClassicFlow: true\n",
			`:4: IdentityPools[0]: unknown field "allowClassicFlow" (did you mean AllowClassicFlow?)`},
		{"unknown section", "Pools: []\n", `:1: unknown field "Pools"`},
		{"API validation", "IdentityPools:\n  - IdentityPoolName: 'bad name!'\n    AllowUnauthenticatedIdentities: true\n",
			`:2: IdentityPools[0].IdentityPoolName: ValidationException: 1 validation error detected: Value 'bad name!' at 'identityPoolName' failed to satisfy constraint`},
		{"API rule", "IdentityPools:\n  - IdentityPoolName: a\n    AllowUnauthenticatedIdentities: true\n    SupportedLoginProviders: {example.com: x}\n",
			`:4: IdentityPools[0].SupportedLoginProviders: InvalidParameterException: SupportedLoginProviders key 'example.com' is not a supported public provider`},
		{"wrong type", "IdentityPools:\n  - IdentityPoolName: a\n    AllowUnauthenticatedIdentities: [true]\n",
			`IdentityPools[0].AllowUnauthenticatedIdentities: SerializationException`},
		{"role mapping", "IdentityPools:\n  - IdentityPoolName: a\n    AllowUnauthenticatedIdentities: true\n    RoleMappings: {graph.facebook.com: {Type: Token, AmbiguousRoleResolution: AuthenticatedRole}}\n",
			`:4: IdentityPools[0].RoleMappings: `},
		{"account", "AccessKeys:\n  - {AccessKeyId: AKIAEXAMPLEINIT00001, SecretAccessKey: secret-secret, Account: 12345}\n",
			`:2: AccessKeys[0].Account: "12345" must be 12 digits`},
		{"pool ID", "IdentityPools:\n  - IdentityPoolId: eu-west-1:2f3c6a1e-0000-4000-8000-000000000001\n    IdentityPoolName: a\n    AllowUnauthenticatedIdentities: true\n",
			`:2: IdentityPools[0].IdentityPoolId: InvalidParameterException: IdentityPoolId 'eu-west-1:2f3c6a1e-0000-4000-8000-000000000001' must start with the region us-east-1`},
		{"developer user conflict", "IdentityPools:\n  - IdentityPoolName: a\n    AllowUnauthenticatedIdentities: true\n    DeveloperProviderName: dev\n    DeveloperIdentities:\n      - {DeveloperUserIdentifier: u1, IdentityId: 'us-east-1:2f3c6a1e-0000-4000-8000-0000000000a1'}\n      - {DeveloperUserIdentifier: u1, IdentityId: 'us-east-1:2f3c6a1e-0000-4000-8000-0000000000a2'}\n",
			`:7: IdentityPools[0].DeveloperIdentities[1]: DeveloperUserAlreadyRegisteredException`},
		{"pinned keys", "OpenIdConnectProviders:\n  - Url: https://login.example.com\n    ClientIDList: [a]\n    Jwks: '{\"keys\": []}'\n",
			`:4: OpenIdConnectProviders[0].Jwks: is not a JSON Web Key Set with keys`},
		{"YAML syntax", "IdentityPools:\n  - IdentityPoolName: [\n", `init.yaml: `},
		{"invalid UTF-8", "IdentityPools:\n  - IdentityPoolName: \"a\xffb\"\n    AllowUnauthenticatedIdentities: true\n", `init.yaml`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, tc.text)
			f, err := initfile.Load(path, "us-east-1")
			if err == nil {
				_, err = initfile.Check(ctx, f)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error %v\nwant it to start with %s and hold %q", err, path, tc.want)
			}
		})
	}
}

func TestAccessKeys(t *testing.T) {
	e := newEnv(t)
	text := "AccessKeys:\n  - {AccessKeyId: AKIAEXAMPLEINIT00001, SecretAccessKey: first-secret, Account: '123456789012'}\n"
	if r := e.apply(t, load(t, write(t, text))); r.Created != 1 {
		t.Fatalf("first apply: %v", r)
	}
	if r := e.apply(t, load(t, write(t, text))); r.Unchanged != 1 {
		t.Fatalf("second apply: %v", r)
	}
	k, err := e.st.GetAccessKey(ctx, "AKIAEXAMPLEINIT00001")
	if err != nil || k.Account != "123456789012" || k.Secret != "first-secret" {
		t.Fatalf("access key %+v %v", k, err)
	}
	r := e.apply(t, load(t, write(t, strings.Replace(text, "first-secret", "second-secret", 1))))
	if k2, _ := e.st.GetAccessKey(ctx, "AKIAEXAMPLEINIT00001"); r.Updated != 1 || k2.Secret != "second-secret" || !k2.Created.Equal(k.Created) {
		t.Fatalf("changed secret: %v %+v", r, k2)
	}
	out, err := initfile.Export(ctx, e.st, e.svc)
	if err != nil || !strings.Contains(string(out), "SecretAccessKey: second-secret") {
		t.Fatalf("export %s %v", out, err)
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	path := write(t, "AccessKeys:\n  - {AccessKeyId: AKIAEXAMPLEINIT00001, SecretAccessKey: short, Account: '123456789012'}\n")
	_, err := initfile.Load(path, "us-east-1")
	if err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("error %v", err)
	}
}

func TestJSONWorksToo(t *testing.T) {
	e := newEnv(t)
	path := write(t, `{"IdentityPools": [{"IdentityPoolName": "j", "AllowUnauthenticatedIdentities": true}]}`)
	if r := e.apply(t, load(t, path)); r.Created != 1 {
		t.Fatalf("%v", r)
	}
}

// export -> init on an empty store -> export gives the same file.
func TestExportRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.apply(t, load(t, "../../examples/init.yaml"))
	first, err := initfile.Export(ctx, e.st, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.yaml")
	if err := os.WriteFile(path, first, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := newEnv(t)
	fresh.apply(t, load(t, path))
	second, err := initfile.Export(ctx, fresh.st, fresh.svc)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Fatalf("export changed:\n%s\n---\n%s", first, second)
	}
	for _, want := range []string{"IdentityPoolId: us-east-1:2f3c6a1e-0000-4000-8000-000000000001", "DeveloperUserIdentifier: user1",
		"Url: https://login.example.com", "RoleMappings:", "PrincipalTagAttributeMaps:"} {
		if !strings.Contains(string(first), want) {
			t.Errorf("export lacks %q:\n%s", want, first)
		}
	}
	// And applying the export onto the store it came from changes nothing.
	if r := e.apply(t, load(t, path)); r.Created != 0 || r.Updated != 0 {
		t.Fatalf("export applied onto its source: %v", r)
	}
}
