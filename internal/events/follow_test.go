package events

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestFollowAcrossRotation: every record written after Follow starts
// reaches it once and in order, also when the log rotates under it, and a
// record written before it started does not.
func TestFollowAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	log, err := OpenWith(path, Rotation{FileSize: 600, Files: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ctx := context.Background()
	log.Emit(ctx, Listening, "before", slog.Int("n", -1))

	var mu sync.Mutex
	var got []float64
	fctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Follow(fctx, path, Filter{ID: Listening}, func(r Record) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, r.Attrs["n"].(float64))
			return nil
		})
	}()
	time.Sleep(2 * FollowInterval) // Follow has opened the file at its end

	const n = 40
	for i := range n {
		log.Emit(ctx, Listening, "listening", slog.Int("n", i))
		log.Emit(ctx, ServerStopping, "other") // filtered out
		if i%5 == 0 {
			time.Sleep(FollowInterval / 2) // rotations happen between and during polls; 50 files keep the follower from falling behind the oldest
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		have := len(got)
		mu.Unlock()
		if have >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(FollowInterval)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != n {
		t.Fatalf("followed %d records, want %d: %v", len(got), n, got)
	}
	for i, v := range got {
		if int(v) != i {
			t.Fatalf("record %d is n=%v: %v", i, v, got)
		}
	}
}
