package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
)

// TestStrictUTF8Identities: user IDs that a lenient decoder would repair
// to the same text (lone surrogates, Latin-1 bytes) are refused, so they
// can never share an identity; U+FFFD itself is an ordinary user.
func TestStrictUTF8Identities(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "utf8").IdentityPoolId)
	body := func(user string) string {
		return `{"IdentityPoolId":"` + pool + `","Logins":{"login.example":"` + user + `"}}`
	}
	for _, user := range []string{`jos\ud800`, `jos\udfff`, "jos\xe9", "jos\xe8"} {
		r := s.signed(t, "GetOpenIdTokenForDeveloperIdentity", body(user))
		if r.Status != 400 || r.Type != "SerializationException" {
			t.Fatalf("user %q: %d %s %s", user, r.Status, r.Type, r.Body)
		}
	}
	// Also in a map key, a pool name and a tag.
	for op, b := range map[string]string{
		"GetOpenIdTokenForDeveloperIdentity": `{"IdentityPoolId":"` + pool + `","Logins":{"login.ex\xffample":"u"}}`,
		"CreateIdentityPool":                 "{\"IdentityPoolName\":\"na\xc0me\",\"AllowUnauthenticatedIdentities\":true}",
		"TagResource":                        `{"ResourceArn":"arn:aws:cognito-identity:us-east-1:000000000000:identitypool/` + pool + `","Tags":{"k":"\udc00"}}`,
	} {
		if r := s.signed(t, op, b); r.Type != "SerializationException" {
			t.Fatalf("%s %q: %d %s", op, b, r.Status, r.Body)
		}
	}
	r := s.signed(t, "GetOpenIdTokenForDeveloperIdentity", body(`jos\ufffd`))
	if r.Status != 200 {
		t.Fatalf("U+FFFD user: %d %s", r.Status, r.Body)
	}
	ids, err := c.ListIdentities(context.Background(), &ci.ListIdentitiesInput{IdentityPoolId: aws.String(pool), MaxResults: aws.Int32(60)})
	if err != nil || len(ids.Identities) != 1 {
		t.Fatalf("identities after the refused users: %v %v", ids, err)
	}
	lk, err := c.LookupDeveloperIdentity(context.Background(), &ci.LookupDeveloperIdentityInput{
		IdentityPoolId: aws.String(pool), IdentityId: ids.Identities[0].IdentityId})
	if err != nil || len(lk.DeveloperUserIdentifierList) != 1 || lk.DeveloperUserIdentifierList[0] != "jos\ufffd" {
		t.Fatalf("stored users: %v %v", lk, err)
	}
}

// TestStrictMembers: member names match exactly, a member given twice
// and a null map value are refused.
func TestStrictMembers(t *testing.T) {
	s := start(t, startOpts{})
	c := s.testClient()
	pool := aws.ToString(createPool(t, c, "members").IdentityPoolId)
	other := aws.ToString(createPool(t, c, "other").IdentityPoolId)
	if r := s.signed(t, "DescribeIdentityPool", `{"identitypoolid":"`+pool+`"}`); r.Type != "ValidationException" {
		t.Fatalf("lower-case member: %d %s", r.Status, r.Body)
	}
	// A case-folded repeat is an unknown member, ignored: the exact one
	// wins, never the later one.
	r := s.signed(t, "DescribeIdentityPool", `{"IdentityPoolId":"`+pool+`","IDENTITYPOOLID":"`+other+`"}`)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"IdentityPoolName":"members"`) {
		t.Fatalf("case-folded repeat: %d %s", r.Status, r.Body)
	}
	if r := s.signed(t, "DescribeIdentityPool", `{"IdentityPoolId":"`+pool+`","IdentityPoolId":"`+other+`"}`); r.Type != "SerializationException" {
		t.Fatalf("repeated member: %d %s", r.Status, r.Body)
	}
	if r := s.signed(t, "CreateIdentityPool", `{"IdentityPoolName":"n","AllowUnauthenticatedIdentities":true,"IdentityPoolTags":{"k":null}}`); r.Type != "SerializationException" {
		t.Fatalf("null tag value: %d %s", r.Status, r.Body)
	}
	if r := s.signed(t, "DeleteIdentities", `{"IdentityIdsToDelete":[null]}`); r.Type != "SerializationException" {
		t.Fatalf("null list element: %d %s", r.Status, r.Body)
	}
	pools, err := c.ListIdentityPools(context.Background(), &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil || len(pools.IdentityPools) != 2 {
		t.Fatalf("pools: %v %v", pools, err)
	}
}

// TestLongValuesClipped: an error quotes at most 256 characters of a value
// and its x-amzn-ErrorMessage header stays under 1 KiB, so every client
// can read it.
func TestLongValuesClipped(t *testing.T) {
	s := start(t, startOpts{})
	for _, tc := range []struct{ op, body string }{
		{"CreateIdentityPool", `{"IdentityPoolName":"` + strings.Repeat("a", 900000) + `","AllowUnauthenticatedIdentities":true}`},
		{"ListIdentityPools", `{"MaxResults":10,"NextToken":"` + strings.Repeat("n", 65536) + `"}`},
		{"TagResource", `{"ResourceArn":"` + strings.Repeat("r", 5000) + `","Tags":{"k":"v"}}`},
	} {
		r := s.signed(t, tc.op, tc.body)
		if r.Status != 400 {
			t.Fatalf("%s: %d %.200s", tc.op, r.Status, r.Body)
		}
		if h := r.Header.Get("x-amzn-ErrorMessage"); len(h) > 1024 || h == "" {
			t.Fatalf("%s: x-amzn-ErrorMessage of %d bytes", tc.op, len(h))
		}
		if len(r.Message) > 2048 || !strings.Contains(r.Message, "...") {
			t.Fatalf("%s: message of %d bytes: %.300s", tc.op, len(r.Message), r.Message)
		}
	}
}

// TestTargetMustBeSigned: a signature that does not cover X-Amz-Target
// cannot be replayed as another operation.
func TestTargetMustBeSigned(t *testing.T) {
	s := start(t, startOpts{})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(`{"MaxResults":5}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sign(t, req, `{"MaxResults":5}`, "test", "test", "cognito-identity", time.Now())
	if strings.Contains(req.Header.Get("Authorization"), "x-amz-target") {
		t.Fatal("setup: the target was signed")
	}
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.ListIdentityPools")
	r := do(t, req)
	if r.Type != "IncompleteSignatureException" || !strings.Contains(r.Message, "x-amz-target") {
		t.Fatalf("unsigned target: %d %s", r.Status, r.Body)
	}
}

// rawExchange writes req on a new connection and returns what the server
// answered and how long it took, reading until the server closes or
// timeout passes.
func rawExchange(t *testing.T, s *server, req string, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return "", time.Since(began)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.Status + " " + string(b), time.Since(began)
}

// TestHTTPHygiene: what a raw client meets is net/http's behaviour, at
// once: a bare-LF request line, a malformed Host, a slow header.
func TestHTTPHygiene(t *testing.T) {
	s := start(t, startOpts{readHeaderTimeout: time.Second})
	got, took := rawExchange(t, s, "POST / HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}", 5*time.Second)
	if !strings.HasPrefix(got, "400") || took > 3*time.Second {
		t.Fatalf("bare LF: %q after %v", got, took)
	}
	for _, host := range []string{"a b", `x/y\z`} {
		got, _ := rawExchange(t, s, "POST / HTTP/1.1\r\nHost: "+host+"\r\nContent-Length: 2\r\n\r\n{}", 5*time.Second)
		if !strings.HasPrefix(got, "400") {
			t.Fatalf("Host %q: %q", host, got)
		}
	}
	// A header sent a byte a second is cut at the header timeout (1 s
	// here), not held for longer.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, conn)
		closed <- time.Since(began)
	}()
	line := "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 20)
	var held time.Duration
loop:
	for i := 0; i < len(line); i++ {
		if _, err := conn.Write([]byte{line[i]}); err != nil {
			break
		}
		select {
		case held = <-closed:
			break loop
		case <-time.After(200 * time.Millisecond):
		}
	}
	if held == 0 {
		select {
		case held = <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("slow header still held after 10 s")
		}
	}
	if held > 4*time.Second {
		t.Fatalf("slow header held %v with a 1 s header timeout", held)
	}
}

// TestHalfClose: a client that sends its request and shuts down its write
// side still gets its answer (not a 500 for a cancelled context).
func TestHalfClose(t *testing.T) {
	s := start(t, startOpts{})
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf(`{"IdentityPoolName":"half%d","AllowUnauthenticatedIdentities":true}`, i)
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityService.CreateIdentityPool")
		sign(t, req, body, "test", "test", "cognito-identity", time.Now())
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Connection", "close")
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		conn.Close()
		if res.StatusCode != 200 {
			t.Fatalf("write %d after half-close: %d %s", i, res.StatusCode, b)
		}
	}
	m, _ := http.Get(s.URL + "/metrics")
	b, _ := io.ReadAll(m.Body)
	m.Body.Close()
	if strings.Contains(string(b), "InternalErrorException") {
		t.Fatal("a half-close was counted as an internal error")
	}
}

// TestLargeUploadReadsThe413: a client sending a 2 MB body, all of it
// before reading, gets the RequestEntityTooLargeException rather than a
// broken pipe.
func TestLargeUploadReadsThe413(t *testing.T) {
	s := start(t, startOpts{})
	for _, chunked := range []bool{false, true} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		body := `{"IdentityPoolName":"` + strings.Repeat("a", 2<<20) + `"}`
		head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityService.CreateIdentityPool\r\n"
		var wire string
		if chunked {
			wire = head + "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		} else {
			wire = head + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
		}
		// Sent in pieces, as a client on a real network does, so the
		// server answers while the upload is still coming.
		for len(wire) > 0 {
			n := min(len(wire), 32<<10)
			if _, err := io.WriteString(conn, wire[:n]); err != nil {
				t.Fatalf("chunked %v: writing the upload: %v", chunked, err)
			}
			wire = wire[n:]
			time.Sleep(15 * time.Millisecond) // about 2 MB/s: the upload outlasts net/http's 500 ms linger

		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		conn.Close()
		if res.StatusCode != 413 || !strings.Contains(string(b), "RequestEntityTooLargeException") {
			t.Fatalf("chunked %v: %d %s", chunked, res.StatusCode, b)
		}
	}
}
