package fedidtest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/fedid/fedid/fedidtest"
)

// A developer's backend signs a user in; the token is a JWT that fedid's
// discovery document at srv.Endpoint verifies.
func ExampleNew() {
	t := newExampleT() // in a test: the test's *testing.T
	defer t.cleanup()

	srv := fedidtest.New(t, fedidtest.WithPool(cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:      aws.String("app"),
		DeveloperProviderName: aws.String("login.example"),
	}))
	id, token := srv.DeveloperToken(srv.PoolID("app"), "alice")
	fmt.Println("identity in", strings.Split(id, ":")[0])
	fmt.Println("token parts:", len(strings.Split(token, ".")))
	// Output:
	// identity in us-east-1
	// token parts: 3
}

// The pools WithPool declares exist as soon as New returns.
func ExampleWithPool() {
	t := newExampleT() // in a test: the test's *testing.T
	defer t.cleanup()

	srv := fedidtest.New(t, fedidtest.WithPool(cognitoidentity.CreateIdentityPoolInput{
		IdentityPoolName:               aws.String("guests welcome"),
		AllowUnauthenticatedIdentities: true,
	}))
	out, err := srv.Client().DescribeIdentityPool(context.Background(), &cognitoidentity.DescribeIdentityPoolInput{
		IdentityPoolId: aws.String(srv.PoolID("guests welcome")),
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(aws.ToString(out.IdentityPoolName), out.AllowUnauthenticatedIdentities)
	// Output: guests welcome true
}

// Every client made from AWSConfig talks to fedid, STS included, with no
// per-client endpoint.
func ExampleServer_AWSConfig() {
	t := newExampleT() // in a test: the test's *testing.T
	defer t.cleanup()

	srv := fedidtest.New(t)
	out, err := sts.NewFromConfig(srv.AWSConfig()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("account", aws.ToString(out.Account))
	// Output: account 000000000000
}

// exampleT stands in for the *testing.T a test has, so that the examples
// can run: it implements the methods fedidtest calls.
type exampleT struct {
	testing.TB // nil: methods not defined below are never called
	dir        string
	cleanups   []func()
}

func newExampleT() *exampleT { return &exampleT{} }

func (t *exampleT) Helper()          {}
func (t *exampleT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Log(args ...any)  { fmt.Fprintln(os.Stderr, args...) }
func (t *exampleT) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
func (t *exampleT) Fatal(args ...any) { panic(fmt.Sprint(args...)) }
func (t *exampleT) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

func (t *exampleT) TempDir() string {
	if t.dir == "" {
		dir, err := os.MkdirTemp("", "fedidtest-example")
		if err != nil {
			panic(err)
		}
		t.dir = dir
	}
	return t.dir
}

// cleanup runs what Cleanup registered, last first, as a test's end does.
func (t *exampleT) cleanup() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	if t.dir != "" {
		os.RemoveAll(t.dir)
	}
}

// A declared state file gives pools, and identities, IDs the test knows in
// advance; Reset goes back to it between two parts of a test.
func ExampleWithInit() {
	t := newExampleT() // in a test: the test's *testing.T
	defer t.cleanup()

	file := t.TempDir() + "/init.yaml"
	os.WriteFile(file, []byte(`
IdentityPools:
  - IdentityPoolId: us-east-1:00000000-0000-4000-8000-000000000001
    IdentityPoolName: app
    AllowUnauthenticatedIdentities: false
    DeveloperProviderName: login.example
    DeveloperIdentities:
      - {DeveloperUserIdentifier: alice, IdentityId: "us-east-1:00000000-0000-4000-8000-0000000000a1"}
`), 0o600)
	srv := fedidtest.New(t, fedidtest.WithInit(file), fedidtest.WithDev())
	id, _ := srv.DeveloperToken("us-east-1:00000000-0000-4000-8000-000000000001", "alice")
	fmt.Println("alice is", id)

	ctx := context.Background()
	srv.Client().CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("scratch")})
	srv.Reset()
	list, _ := srv.Client().ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	fmt.Println("pools after the reset:", len(list.IdentityPools), aws.ToString(list.IdentityPools[0].IdentityPoolName))
	// Output:
	// alice is us-east-1:00000000-0000-4000-8000-0000000000a1
	// pools after the reset: 1 app
}
