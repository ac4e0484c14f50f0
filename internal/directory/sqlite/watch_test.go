package sqlite

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/openum/openum/internal/directory"
)

// TestMain lets the test binary play another openum process (the command
// line) writing to the directory: it adds the gateway
// OPENUM_TEST_ADD_GATEWAY to the database OPENUM_TEST_DB.
func TestMain(m *testing.M) {
	if name, file := os.Getenv("OPENUM_TEST_ADD_GATEWAY"), os.Getenv("OPENUM_TEST_DB"); name != "" {
		s, err := Open(context.Background(), file)
		if err == nil {
			_, err = s.Update(context.Background(), admin, func(snap *directory.Snapshot) error {
				g := directory.NewIPGateway(name)
				g.Address = "192.0.2.1"
				return snap.AddIPGateway(g)
			})
			s.Close()
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func addGatewayElsewhere(t *testing.T, file, name string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OPENUM_TEST_ADD_GATEWAY="+name, "OPENUM_TEST_DB="+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the other process: %v\n%s", err, out)
	}
}

// counting is the store, counting the snapshots read.
type counting struct {
	*Store
	reads atomic.Int32
}

func (c *counting) Snapshot(ctx context.Context) (*directory.Snapshot, error) {
	c.reads.Add(1)
	return c.Store.Snapshot(ctx)
}

// Version changes when another process writes, and only then: reading, or
// an update that changes nothing, leaves it as it was.
func TestVersionSeesAnotherProcess(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "directory.db")
	s, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed(t, s)
	v1, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, admin, func(*directory.Snapshot) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx); v != v1 {
		t.Fatalf("version %d after a read and an empty update; want %d", v, v1)
	}
	addGatewayElsewhere(t, file, "GW1")
	if v, _ := s.Version(ctx); v == v1 {
		t.Fatalf("version still %d after another process added a gateway", v)
	}
}

// The watcher reads the directory only when it changed: ticks with nothing
// new read nothing but the version, and another process's change reaches
// every subscriber at the next Check.
func TestWatcherReadsOnlyChanges(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "directory.db")
	s, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed(t, s)
	dir := &counting{Store: s}
	w := directory.NewWatcher(dir)
	if _, err := w.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	var got []*directory.Snapshot
	w.Subscribe(func(_ context.Context, snap *directory.Snapshot) error { got = append(got, snap); return nil })
	for range 5 {
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := dir.reads.Load(); n != 1 || len(got) != 0 {
		t.Fatalf("%d snapshots read, %d handed on with nothing changed; want the first read only", n, len(got))
	}
	addGatewayElsewhere(t, file, "GW1")
	for range 3 {
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := dir.reads.Load(); n != 2 || len(got) != 1 {
		t.Fatalf("%d snapshots read, %d handed on after one change; want 2 and 1", n, len(got))
	}
	if _, err := got[0].IPGateway("GW1"); err != nil {
		t.Fatalf("the subscriber did not get the other process's gateway: %v", err)
	}
	// Other readers get the running configuration, which reads nothing
	// and hides no change from the next Check.
	if snap, err := w.Snapshot(ctx); err != nil || snap != got[0] || dir.reads.Load() != 2 {
		t.Fatalf("Snapshot: %v; want the configuration last handed on, not read again", err)
	}
	addGatewayElsewhere(t, file, "GW2")
	if _, err := w.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(ctx); err != nil || len(got) != 2 {
		t.Fatalf("Check after Snapshot: %v, %d snapshots handed on; want the change to GW2 too", err, len(got))
	}
	// SIGHUP: read and hand on, changed or not.
	if err := w.Reload(ctx); err != nil || len(got) != 3 {
		t.Fatalf("Reload: %v, %d snapshots handed on; want 3", err, len(got))
	}
}
