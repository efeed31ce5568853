package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestProvidersFileReloadsOnSignal: a reload request (SIGHUP in fedid
// serve) registers the providers file again; a file that does not load
// changes nothing.
func TestProvidersFileReloadsOnSignal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "providers.json")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`[{"url":"https://one.example.com","clientIds":["app"]}]`)
	reload := make(chan struct{}, 1)
	s := start(t, startOpts{providersFile: file, reload: reload})
	c := iamClient(s, "test", "test")
	count := func() int {
		out, err := c.ListOpenIDConnectProviders(context.Background(), &iam.ListOpenIDConnectProvidersInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.OpenIDConnectProviderList)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d providers at start", n)
	}
	write(`[{"url":"https://one.example.com","clientIds":["app"]},{"url":"https://two.example.com","clientIds":["app"]}]`)
	reload <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for count() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the providers file was not registered again after the reload request")
		}
		time.Sleep(20 * time.Millisecond)
	}
	write(`not json`)
	reload <- struct{}{}
	time.Sleep(200 * time.Millisecond)
	if n := count(); n != 2 {
		t.Fatalf("a broken file changed the providers: %d", n)
	}
}
