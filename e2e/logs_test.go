package e2e

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestLogsHoldNoSecrets runs the flows that carry secrets (an access key's
// secret, developer and provider logins, OpenID tokens, issued credentials,
// a refused token) with the server logging at debug level, then searches
// the whole log for each value: none may appear. Each request has its line.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs logBuffer
	e := newFedEnv(t, func(o *startOpts) { o.log = &logs })
	ctx := context.Background()
	secrets := []string{otherSecret}

	// A developer login of the other account (its secret signs).
	oc := e.s.client(otherKeyID, otherSecret, "us-east-1")
	pool := aws.ToString(createPool(t, oc, "logs").IdentityPoolId)
	user := "login-value-7f3a9c21"
	dt, err := devToken(t, oc, pool, user)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, user, aws.ToString(dt.Token))

	// A provider login: GetId, GetCredentialsForIdentity, then the issued
	// credentials sign an STS call.
	if err := setRoles(t, e.c, e.pool, map[string]string{"authenticated": authRole}, nil); err != nil {
		t.Fatal(err)
	}
	tok := e.oidcTok(t, "provider-subject-51c2")
	logins := map[string]string{e.oidc.Name(): tok}
	id, err := e.c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &e.pool, Logins: logins})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := e.c.GetCredentialsForIdentity(ctx, &ci.GetCredentialsForIdentityInput{IdentityId: id.IdentityId, Logins: logins})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stsFor(e.s, cr.Credentials).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok, aws.ToString(cr.Credentials.SecretKey), aws.ToString(cr.Credentials.SessionToken))

	// Refused logins: a forged token, a token of an unknown provider.
	forged := tok[:len(tok)-8] + "AAAAAAAA"
	bogus := "not-a-token-but-a-secret-93ab"
	for _, l := range []map[string]string{{e.oidc.Name(): forged}, {"unknown.example": bogus}} {
		if _, err := e.c.GetId(ctx, &ci.GetIdInput{IdentityPoolId: &e.pool, Logins: l}); err == nil {
			t.Fatalf("%v accepted", l)
		}
	}
	secrets = append(secrets, forged, bogus)

	all := logs.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the log holds a secret value (%d characters, starting %.6s…)", len(s), s)
		}
		// Also no long piece of one (a token's signature or payload).
		if len(s) > 60 && strings.Contains(all, s[len(s)-40:]) {
			t.Errorf("the log holds the end of a secret value (%d characters)", len(s))
		}
	}
	for _, op := range []string{"GetOpenIdTokenForDeveloperIdentity", "GetId", "GetCredentialsForIdentity", "GetCallerIdentity"} {
		if !strings.Contains(all, "msg=request operation="+op+" ") {
			t.Errorf("no request line for %s", op)
		}
	}
	if !strings.Contains(all, "account="+otherAccount) || !strings.Contains(all, "error_code=NotAuthorizedException") {
		t.Errorf("request lines lack the account or the error code:\n%s", all)
	}
}

// TestMetrics: /metrics carries the signing latency, the key's age, the
// throttled requests, the login cache's hits and misses and, on SQLite,
// the grouped writes.
func TestMetrics(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "metrics").IdentityPoolId)
	for range 10 {
		if _, err := devToken(t, c, pool, "metrics-user"); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := string(b)
	// The new user's identity and login: one statement on PostgreSQL,
	// two in a transaction on SQLite.
	insert := `fedid_store_query_duration_seconds_count{statement="InsertIdentity"} 1`
	if strings.HasPrefix(s.DB, "postgres") {
		insert = `fedid_store_query_duration_seconds_count{statement="InsertIdentityLogin"} 1`
	}
	want := []string{"fedid_sign_duration_seconds_count 10", insert, "fedid_signing_key_age_seconds ", "fedid_throttled_requests_total 0",
		`fedid_requests_total{code="OK",operation="GetOpenIdTokenForDeveloperIdentity"} 10`}
	for _, w := range want {
		if !strings.Contains(m, w) {
			t.Errorf("/metrics lacks %q:\n%s", w, grepLines(m, "fedid_"))
		}
	}
	// Every token looks its login up once: the first finds none, the
	// second reads the login the first linked, later ones read it from
	// memory unless an unlinking write cleared the cache meanwhile.
	hits, misses := loginCacheCounts(m)
	if hits+misses != 10 || hits < 1 || misses < 2 {
		t.Errorf("login cache: %v hits, %v misses for 10 tokens", hits, misses)
	}
	if !strings.HasPrefix(s.DB, "postgres") {
		writes, commits := metric(m, "fedid_store_writes_total"), metric(m, "fedid_store_commits_total")
		if writes < 1 || commits < 1 || commits > writes {
			t.Errorf("store writes %v in %v commits", writes, commits)
		}
	}
}

// loginCacheCounts reads the login cache's counters from /metrics.
func loginCacheCounts(m string) (hits, misses float64) {
	return metric(m, "fedid_login_cache_hits_total"), metric(m, "fedid_login_cache_misses_total")
}

// metric reads an unlabelled sample from /metrics (-1 when absent).
func metric(m, name string) float64 {
	for _, l := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
