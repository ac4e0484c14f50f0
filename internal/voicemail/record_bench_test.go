package voicemail

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/sip"
)

// BenchmarkRecordedCalls measures the media path of N concurrent Secured
// calls as the server runs them (SPEC PERF-1, PERF-4), over real UDP on
// loopback: callers in a process of their own send G.711 over SRTP, 50
// packets a second each, and the server side records each call into a WAV
// file through listen (record/calls=N), or plays a greeting to it while it
// receives (greeting/calls=N). An op is one second of the N calls; run one
// sub-benchmark a process (the resident set does not shrink back) as
//
//	go test -run '^$' -bench 'RecordedCalls/record/calls=2000' -benchtime 5x ./internal/voicemail/
//
// Metrics, over the measured seconds: cpu-µs/call-s, this process's CPU
// time (getrusage: user and system) per 50 packets received; alloc-B/call-s
// and ctxsw/call-s, the heap allocated and the context switches per 50
// packets; rss-B/call and heap-B/call, the resident set and the live heap
// and stacks the calls added; goroutines/call; loss-%, the packets the
// callers sent that the server did not accept by the time the streams
// closed. OPENUM_BENCH_PROFILE=DIR writes profiles of the measured seconds
// alone (see profileWindow).
func BenchmarkRecordedCalls(b *testing.B) {
	for _, mode := range []string{"record", "greeting"} {
		for _, n := range []int{200, 500, 1000, 2000} {
			b.Run(fmt.Sprintf("%s/calls=%d", mode, n), func(b *testing.B) { benchCalls(b, n, mode == "greeting") })
		}
	}
}

func benchCalls(b *testing.B, n int, greet bool) {
	defer debug.SetGCPercent(debug.SetGCPercent(200)) // as openum serve runs
	greeting := make([]int16, 600*media.SampleRate)   // longer than any run, shared
	for i := range greeting {
		greeting[i] = int16((i % 40) * 200)
	}
	base := memNow()
	callers := startCallers(b, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := make([]*media.Stream, n)
	to := make([]netip.AddrPort, n)
	for i := range streams {
		streams[i] = benchStream(b, callers.Addrs[i])
		to[i] = streams[i].LocalAddr()
	}
	plan := directory.NewDialPlan("DP")
	plan.RecordingIdleTimeout = 5
	dir := b.TempDir()
	var wg, begun sync.WaitGroup
	wg.Go(func() { watchMedia(ctx, streams) })
	begun.Add(n)
	for i, s := range streams {
		call := &sip.Call{ID: strconv.Itoa(i), DialPlan: plan, Audio: s}
		wg.Go(func() {
			s.Sink(media.Discard) // as HandleCall does
			if greet {
				begun.Done()
				playUntil(ctx, s, greeting, func(byte) bool { return false })
				return
			}
			wav, err := media.CreateWAV(filepath.Join(dir, call.ID+".wav"))
			begun.Done()
			if err != nil {
				b.Error(err)
				return
			}
			_, _, _ = listen(ctx, call, time.Now, time.Now(), time.Hour, wav.Write)
			_ = wav.Close()
		})
	}
	if err := callers.Start(to); err != nil {
		b.Fatal(err)
	}
	begun.Wait()
	time.Sleep(2 * time.Second) // every call under way: buffers and stacks at their size
	stopProfile := profileWindow(b)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	ru0, rx0 := rusage(), media.Totals.Received.Load()
	for b.Loop() {
		time.Sleep(time.Second)
	}
	ru1, rx := rusage(), media.Totals.Received.Load()-rx0
	runtime.ReadMemStats(&ms1)
	b.StopTimer()
	stopProfile()
	up := memNow()
	sent, err := callers.Stop()
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the last packets read
	cancel()
	wg.Wait()
	var accepted, gaps uint64
	for _, s := range streams {
		s.Close() // as a hang-up does: what the socket still holds counts
		accepted += s.Stats().Packets.Load()
		gaps += s.Stats().Lost.Load()
	}
	b.Logf("%d packets sent, %d accepted, %d never came (sequence gaps)", sent, accepted, gaps)
	if callSeconds := float64(rx) / 50; callSeconds > 0 {
		b.ReportMetric(float64(ru1.cpu()-ru0.cpu())/1e3/callSeconds, "cpu-µs/call-s")
		b.ReportMetric(float64(ru1.Nvcsw+ru1.Nivcsw-ru0.Nvcsw-ru0.Nivcsw)/callSeconds, "ctxsw/call-s")
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/callSeconds, "alloc-B/call-s")
	}
	b.ReportMetric(float64(up.rss-base.rss)/float64(n), "rss-B/call")
	b.ReportMetric(float64(up.heap-base.heap)/float64(n), "heap-B/call")
	b.ReportMetric(float64(up.goroutines-base.goroutines)/float64(n), "goroutines/call")
	if sent > 0 {
		b.ReportMetric(100*(1-float64(accepted)/float64(sent)), "loss-%")
	}
}

// benchStream starts a Secured call's stream on loopback, its caller at
// from with the benchmark callers' keys.
func benchStream(b *testing.B, from netip.AddrPort) *media.Stream {
	offer := &media.Remote{Addr: from, Secure: true, Codecs: []uint8{media.PCMU}, Event: 101, Direction: media.SendRecv,
		Crypto: []media.Crypto{{Tag: 1, Suite: callersSuite, Key: callersKey}}}
	port, err := media.OpenPort(media.Ports{IP: netip.MustParseAddr("127.0.0.1"), First: 40000, Last: 59999}, offer, true)
	if err != nil {
		b.Fatal(err)
	}
	s, err := port.Start(offer)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// watchMedia is what the SIP server does for its calls: every second, one
// goroutine looks for those whose caller has sent nothing for 30 s.
func watchMedia(ctx context.Context, streams []*media.Stream) {
	started := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for _, s := range streams {
				_ = s.Quiet(30*time.Second, started)
			}
		}
	}
}

// profileWindow starts, when OPENUM_BENCH_PROFILE names a directory, a
// CPU profile of the measured window (cpu-NAME.pprof), and returns what
// ends it; the heap is written at both ends (heap0-NAME.pprof,
// heap-NAME.pprof: pprof -diff_base tells what the window allocated). go
// test's own profiles would take in the calls' set-up.
func profileWindow(b *testing.B) (stop func()) {
	dir := os.Getenv("OPENUM_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	name := strings.NewReplacer("/", "-", "=", "").Replace(b.Name())
	writeHeap(b, filepath.Join(dir, "heap0-"+name+".pprof"))
	cpu, err := os.Create(filepath.Join(dir, "cpu-"+name+".pprof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		cpu.Close()
		writeHeap(b, filepath.Join(dir, "heap-"+name+".pprof"))
	}
}

func writeHeap(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// usage is what getrusage tells of this process.
type usage struct{ syscall.Rusage }

func rusage() usage {
	var u usage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u.Rusage)
	return u
}

// cpu is the CPU time the process has spent, user and system, in ns.
func (u usage) cpu() int64 { return u.Utime.Nano() + u.Stime.Nano() }

// memUse is what the process holds: its resident set, its live heap and
// stacks (after a collection), its goroutines.
type memUse struct{ rss, heap, goroutines int64 }

func memNow() memUse {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memUse{heap: int64(ms.HeapAlloc + ms.StackInuse), goroutines: int64(runtime.NumGoroutine())}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(status)) {
			if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				m.rss = v << 10
			}
		}
	}
	return m
}
