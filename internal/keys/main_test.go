package keys

import (
	"fmt"
	"os"
	"testing"
)

// TestMain lets CI run the package's tests on each signer
// (FEDID_SIGNER=go for crypto/rsa alone), as cmd/fedid would choose it.
func TestMain(m *testing.M) {
	if err := UseSigner(os.Getenv("FEDID_SIGNER")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
