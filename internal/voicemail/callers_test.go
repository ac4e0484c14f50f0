package voicemail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/openum/openum/internal/media"
)

// The callers of the media benchmarks (record_bench_test.go) run in a
// process of their own, this test binary started again with
// callersEnv set, so that the benchmark's CPU time (getrusage) is the
// server side's alone. They send G.711 over SRTP from a UDP port each, as
// gateways do, and read what the server plays to them.

const callersEnv = "OPENUM_BENCH_CALLERS"

// callersSuite and callersKey are every benchmark caller's SRTP suite and
// master key and salt.
const callersSuite = "AES_CM_128_HMAC_SHA1_80"

var callersKey = bytes.Repeat([]byte{7}, 30)

// callers is the process of the benchmark's callers, as the benchmark
// drives it: Addrs are their ports; Start makes them send to the server's.
type callers struct {
	Addrs []netip.AddrPort
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
}

// startCallers starts n callers, their ports open, not yet sending.
func startCallers(b *testing.B, n int) *callers {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchCallers$")
	cmd.Env = append(os.Environ(), callersEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &callers{cmd: cmd, in: in, out: bufio.NewReader(out)}
	b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	fmt.Fprintln(in, n)
	if err := c.read(&c.Addrs); err != nil {
		b.Fatal(err)
	}
	return c
}

// Start has the callers send to the server's ports, one each.
func (c *callers) Start(to []netip.AddrPort) error {
	return json.NewEncoder(c.in).Encode(to)
}

// Stop stops the callers and returns how many packets they sent.
func (c *callers) Stop() (sent uint64, err error) {
	c.in.Close()
	err = c.read(&sent)
	return sent, err
}

func (c *callers) read(v any) error {
	line, err := c.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("benchmark callers: %w", err)
	}
	return json.Unmarshal(line, v)
}

// TestBenchCallers is the callers' process (see startCallers); in a test
// run it does nothing. It reads the number of callers, opens their ports
// and writes them; reads the server's ports and sends to them, 50 packets
// a second each, until its input closes; then writes how many it sent.
// Its sockets are its own, outside Go's poller, sent to and read from
// without waiting: a reader woken for each packet the server plays would
// be charged, on loopback, to the server's send.
func TestBenchCallers(t *testing.T) {
	if os.Getenv(callersEnv) == "" {
		t.Skip("the media benchmarks' callers")
	}
	in := json.NewDecoder(os.Stdin)
	var n int
	if err := in.Decode(&n); err != nil {
		t.Fatal(err)
	}
	fds := make([]int, n)
	addrs := make([]netip.AddrPort, n)
	for i := range fds {
		var err error
		if fds[i], addrs[i], err = callerSocket(); err != nil {
			t.Fatal(err)
		}
	}
	out := json.NewEncoder(os.Stdout)
	_ = out.Encode(addrs)
	var to []netip.AddrPort
	if err := in.Decode(&to); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var sent atomic.Uint64
	var wg sync.WaitGroup
	// A few senders, each for a share of the callers, as a gateway's
	// threads would: one alone falls behind on a busy machine.
	const senders = 4
	for w := range senders {
		wg.Go(func() { sent.Add(send(t, fds[w:], to[w:], senders, &stop)) })
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop.Store(true)
	wg.Wait()
	_ = out.Encode(sent.Load())
}

// callerSocket opens a caller's UDP port on loopback.
func callerSocket() (int, netip.AddrPort, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, netip.AddrPort{}, err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	a := sa.(*syscall.SockaddrInet4)
	return fd, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), nil
}

// send sends a packet every 20 ms from every stride-th of fds to its
// server port in to, and reads what the server played to it, until stop;
// it returns how many packets it sent. The packets of a round are
// encrypted once: every call has the same keys and each stream checks its
// own sequence (replay protection is per stream). A round that comes late
// is sent late, not skipped, as a gateway would.
func send(t *testing.T, fds []int, to []netip.AddrPort, stride int, stop *atomic.Bool) uint64 {
	ctx, err := srtp.CreateContext(callersKey[:16], callersKey[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Error(err)
		return 0
	}
	var dst []syscall.Sockaddr
	for i := 0; i < len(fds); i += stride {
		dst = append(dst, &syscall.SockaddrInet4{Addr: to[i].Addr().As4(), Port: int(to[i].Port())})
	}
	payload := make([]byte, media.FrameSamples)
	buf := make([]byte, 1500)
	var sent uint64
	start := time.Now()
	for round := 0; !stop.Load(); round++ {
		for i := range payload {
			payload[i] = media.EncodeULaw(int16(6000 * math.Sin(2*math.Pi*440*float64(round*media.FrameSamples+i)/media.SampleRate)))
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: media.PCMU, SequenceNumber: uint16(round), Timestamp: uint32(round * media.FrameSamples), SSRC: 0x5eed}, Payload: payload}
		raw, _ := p.Marshal()
		pkt, err := ctx.EncryptRTP(nil, raw, &p.Header)
		if err != nil {
			t.Error(err)
			return sent
		}
		for j, i := 0, 0; i < len(fds); j, i = j+1, i+stride {
			if syscall.Sendto(fds[i], pkt, syscall.MSG_DONTWAIT, dst[j]) == nil {
				sent++
			}
			if round%3 == 0 {
				for {
					if _, _, err := syscall.Recvfrom(fds[i], buf, syscall.MSG_DONTWAIT); err != nil {
						break
					}
				}
			}
		}
		time.Sleep(time.Until(start.Add(time.Duration(round+1) * media.FrameDuration)))
	}
	return sent
}
