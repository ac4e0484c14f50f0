package msgstoretest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
)

// crashSamples makes each message 4 MB (some four minutes of audio), so
// that a save takes long enough to be killed in the middle.
const crashSamples = 2_000_000

// crashAddr is the variable naming the store the helper process writes.
const crashAddr = "MSGSTORE_CRASH_ADDR"

// InHelper reports whether this test binary runs as the helper process of
// the kill tests, which needs no more than the store's address: a TestMain
// can then skip what it sets up for the other tests (a database server).
func InHelper() bool { return os.Getenv(crashAddr) != "" }

// CrashHelper is the process the kill tests kill: it saves messages into
// the store at $MSGSTORE_CRASH_ADDR, or (MSGSTORE_CRASH_MODE=state) moves
// them between states, printing each step, until it is killed. Each
// engine's tests run it as their TestCrashHelper, which it skips unless
// it is the helper process.
func CrashHelper(t *testing.T, e Engine) {
	addr := os.Getenv(crashAddr)
	if addr == "" {
		t.Skip("the helper process of the kill tests")
	}
	ctx := context.Background()
	s, err := e.Open(ctx, addr)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if os.Getenv("MSGSTORE_CRASH_MODE") == "state" {
		for i := 0; ; i++ {
			state := []msgstore.State{msgstore.Saved, msgstore.New, msgstore.Deleted}[i%3]
			fmt.Println("setting", i)
			if _, err := s.SetState(ctx, admin, 1, state, time.Now()); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
		}
	}
	for i := 0; ; i++ {
		seed := rand.IntN(1 << 20)
		wav := Recording(t, crashSamples, seed)
		fmt.Println("saving", seed)
		start := time.Now()
		m, err := s.Save(ctx, directory.Actor{}, msgstore.Message{Mailbox: "alice@example.test", CallerNumber: strconv.Itoa(seed)}, wav)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("saved", m.ID, seed, time.Since(start).Milliseconds())
	}
}

// runAndKill starts the helper on addr and kills it (SIGKILL: no chance
// to finish) a random moment, up to 150 ms, after it began its n-th step
// (about a save's length: before, inside or just after its transaction;
// the test logs how long a save takes), then returns the lines it
// printed.
func runAndKill(t *testing.T, addr, mode string, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	// The kill leaves the helper no chance to remove its temporary
	// files: they go under this test's, which the test removes.
	cmd.Env = append(os.Environ(), crashAddr+"="+addr, "MSGSTORE_CRASH_MODE="+mode, "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(out)
	steps := 0
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "error") {
			t.Fatalf("helper: %s", sc.Text())
		}
		if strings.HasPrefix(sc.Text(), "saving") || strings.HasPrefix(sc.Text(), "setting") {
			if steps++; steps == n {
				time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
				_ = cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	_ = cmd.Wait()
	return lines
}

// KillDuringSave checks that a kill -9 at any point of a save leaves
// every message that Save returned whole, and the one being saved whole or
// absent: no row without its audio, no audio cut short, no message
// without its first state.
func KillDuringSave(t *testing.T, e Engine) {
	if testing.Short() {
		t.Skip("kills a process")
	}
	addr := e.New(t)
	ctx := context.Background()
	saved := map[int64]int{} // ID → seed, each Save that returned
	inFlight, saves, took := 0, 0, 0
	for round := range 5 {
		lines := runAndKill(t, addr, "save", 2+round%2)
		for _, l := range lines {
			var id int64
			var seed, ms int
			if _, err := fmt.Sscanf(l, "saved %d %d %d", &id, &seed, &ms); err == nil {
				saved[id] = seed
				saves, took = saves+1, took+ms
			}
		}
		if e.Intact != nil {
			e.Intact(t, addr)
		}
		s, err := e.Open(ctx, addr)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		list, err := s.List(ctx, "alice@example.test", "")
		if err != nil {
			t.Fatal(err)
		}
		found := map[int64]bool{}
		for _, m := range list {
			found[m.ID] = true
			seed, _ := strconv.Atoi(m.CallerNumber)
			audio, err := s.Audio(ctx, m.ID)
			if err != nil || !bytes.Equal(audio, Recording(t, crashSamples, seed)) || int64(len(audio)) != m.Size {
				t.Fatalf("round %d: message %d's audio is not what was saved (%d bytes, %v)", round, m.ID, len(audio), err)
			}
			if got, _ := s.Get(ctx, m.ID); len(got.History) != 1 {
				t.Fatalf("round %d: message %d has history %+v", round, m.ID, got.History)
			}
			if _, ok := saved[m.ID]; !ok {
				inFlight++ // committed, killed before it could say so
				saved[m.ID] = seed
			}
		}
		for id := range saved {
			if !found[id] {
				t.Fatalf("round %d: message %d was saved, and is lost", round, id)
			}
		}
		s.Close()
	}
	t.Logf("%d messages kept; a save of %d bytes took %d ms on average; %d killed saves had committed, the others left nothing",
		len(saved), 44+2*crashSamples, took/max(saves, 1), inFlight)
}

// KillDuringStateChange checks that a kill -9 while message 1 changes
// state leaves the state and its history agreeing: the change happened
// whole, or not at all.
func KillDuringStateChange(t *testing.T, e Engine) {
	if testing.Short() {
		t.Skip("kills a process")
	}
	ctx := context.Background()
	addr := e.New(t)
	s, err := e.Open(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	Save(t, s, "alice@example.test", t0, 800)
	s.Close()
	for round := range 3 {
		runAndKill(t, addr, "state", 50+round*37)
		if e.Intact != nil {
			e.Intact(t, addr)
		}
		s, err := e.Open(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Get(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		last := m.History[len(m.History)-1]
		log, _ := s.Audit(ctx)
		if last.State != m.State || !last.At.Equal(m.StateChanged) || len(log) != len(m.History)-1 {
			t.Fatalf("round %d: state %s at %v, last history %+v, %d history rows, %d audit records",
				round, m.State, m.StateChanged, last, len(m.History), len(log))
		}
		s.Close()
	}
}
