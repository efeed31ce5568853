package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedid/fedid"
)

// The helper process of TestOpenRefusesUnwritable: it opens the database
// FEDID_SQLITE_OPEN_HELPER names and writes to it, and prints what
// happened.
func TestOpenHelper(t *testing.T) {
	path := os.Getenv("FEDID_SQLITE_OPEN_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	fmt.Println("RESULT:", openAndWrite(path))
}

// openAndWrite opens the store and writes a pool, as serving a request
// would.
func openAndWrite(path string) string {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return "open: " + err.Error()
	}
	defer s.Close()
	p := &fedid.Pool{ID: "us-east-1:w", Account: fedid.DefaultAccountID, Region: "us-east-1", Name: "w", CreatedAt: time.Now()}
	if err := s.Update(ctx, func(tx fedid.Tx) error { return tx.CreatePool(ctx, p) }); err != nil {
		return "opened, then write: " + err.Error()
	}
	return "opened and wrote"
}

// TestOpenRefusesUnwritable: a store fedid cannot write is refused at
// start with a message naming the path, not opened "healthy" to fail every
// write. Root ignores file modes, so when the test runs as root the
// read-only cases run in a helper process (this test binary) as the user
// nobody, through setpriv.
func TestOpenRefusesUnwritable(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		path := filepath.Join(dir, "fedid.db")
		want := "sqlite: directory " + dir + " does not exist (database " + path + ")"
		if got := openAndWrite(path); got != "open: "+want {
			t.Fatalf("got %q\nwant open: %q", got, want)
		}
	})

	base := unprivilegedDir(t)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir, path string)
		want  func(dir, path string) string
	}{
		{"read-only file", func(t *testing.T, dir, path string) {
			createDB(t, path)
			chmod(t, path, 0o444)
		}, func(dir, path string) string {
			return "open: sqlite: cannot write " + path + ": the file is read-only"
		}},
		{"read-only directory, new database", func(t *testing.T, dir, path string) {
			chmod(t, dir, 0o555)
		}, func(dir, path string) string {
			return "open: sqlite: cannot create " + path + ": the directory " + dir + " is read-only"
		}},
		{"read-only directory, existing database", func(t *testing.T, dir, path string) {
			createDB(t, path)
			chmod(t, dir, 0o555)
		}, func(dir, path string) string {
			return "open: sqlite: cannot write " + path + ": the directory " + dir + " is read-only (SQLite creates " +
				filepath.Base(path) + "-wal and " + filepath.Base(path) + "-shm next to the database)"
		}},
		{"writable", func(t *testing.T, dir, path string) {
			createDB(t, path)
		}, func(dir, path string) string { return "opened and wrote" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base.dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			base.chown(t, dir)
			path := filepath.Join(dir, "fedid.db")
			tc.setup(t, dir, path)
			got := base.run(t, path)
			if want := tc.want(dir, path); got != want {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// unprivileged runs openAndWrite as a user file modes apply to.
type unprivileged struct {
	dir    string
	asUser bool // run as nobody in a helper process
	bin    string
}

func unprivilegedDir(t *testing.T) *unprivileged {
	dir, err := os.MkdirTemp("", "fedid-sqlite-writable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	u := &unprivileged{dir: dir}
	if os.Geteuid() != 0 {
		return u
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("running as root, whom file modes do not stop, and setpriv (util-linux) is missing to run the check as nobody: read-only cases NOT tested")
	}
	_ = setpriv
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The helper is this test binary, copied where nobody may run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	u.bin = filepath.Join(dir, "helper.test")
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(u.bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	u.asUser = true
	t.Logf("running as root: the read-only cases run as nobody (setpriv)")
	return u
}

const nobody = 65534

func (u *unprivileged) chown(t *testing.T, path string) {
	if u.asUser {
		if err := os.Chown(path, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
}

func (u *unprivileged) run(t *testing.T, path string) string {
	if !u.asUser {
		return openAndWrite(path)
	}
	cmd := exec.Command("setpriv", "--reuid", fmt.Sprint(nobody), "--regid", fmt.Sprint(nobody), "--clear-groups",
		u.bin, "-test.run", "^TestOpenHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "FEDID_SQLITE_OPEN_HELPER="+path, "HOME=/tmp")
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if r, ok := strings.CutPrefix(line, "RESULT: "); ok {
			return r
		}
	}
	t.Fatalf("helper printed no result:\n%s", out.String())
	return ""
}

// createDB makes a database (owned by the user the test opens it as).
func createDB(t *testing.T, path string) {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chown(p, nobody, nobody); err != nil && !errors.Is(err, os.ErrNotExist) && os.Geteuid() == 0 {
			t.Fatal(err)
		}
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
