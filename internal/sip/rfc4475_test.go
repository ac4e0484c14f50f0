package sip

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rfc4475 is what openum answers to each RFC 4475 torture message sent by a
// trusted gateway (GW2) on its own TCP connection: a status code, "closed"
// (the connection was closed without an answer) or "none" (no answer, the
// connection stays open: a stray response, or a message still waiting for
// its body). The file's README groups them by the RFC's section.
var rfc4475 = map[string][]string{
	// 3.1.1 valid messages: a proper answer. GW2's only pilot is 5000, so
	// an INVITE for anyone else gets 404; methods openum does not
	// implement get 501.
	"wsinv":      {"400"}, // sipgo keys transactions by an RFC 3261 branch and this one has no z9hG4bK
	"intmeth":    {"501"},
	"esc01":      {"404"},
	"escnull":    {"501"},
	"esc02":      {"501"},
	"lwsdisp":    {"200"},
	"longreq":    {"404"},
	"dblreq":     {"closed", "501", "404"}, // sipgo's stream parser may close on the CRLF before the second request; else both are answered, each in its own goroutine, in either order
	"semiuri":    {"200"},
	"transports": {"200"},
	"mpart01":    {"501"},
	"unreason":   {"none"}, // responses to no transaction of ours: ignored
	"noreason":   {"none"},
	// 3.1.2 invalid messages: 400, dropped or the connection closed; where
	// the RFC lets an element act on the sound part, a refusal.
	"badinv01":   {"400", "closed"},
	"clerr":      {"none"}, // over TCP, a Content-Length beyond the bytes sent means: wait for them
	"scalar02":   {"400", "closed"},
	"scalarlg":   {"400", "closed"},
	"quotbal":    {"400", "closed"},
	"ltgtruri":   {"400", "closed"},
	"lwsruri":    {"400", "closed"},
	"lwsstart":   {"400", "closed"},
	"trws":       {"400", "closed"},
	"escruri":    {"400", "404"},
	"baddate":    {"400", "404"},
	"regbadct":   {"400", "501"},
	"badaspec":   {"400", "closed"},
	"baddn":      {"400", "closed", "none"},
	"badvers":    {"505"},
	"mismatch01": {"400"},
	"mismatch02": {"400"},
	"bigcode":    {"closed", "none"},
	// 3.2 transaction layer.
	"badbranch": {"200"},
	// 3.3 application layer: parsed, then refused as the RFC says, or
	// refused earlier for a reason of openum's own (no such pilot).
	"insuf":    {"400"},
	"unkscm":   {"416"},
	"novelsc":  {"416", "closed"},
	"unksm2":   {"416", "501"},
	"bext01":   {"420"},
	"invut":    {"415", "404"},
	"regaut01": {"501"},
	"multi01":  {"400", "404"},
	"mcl01":    {"400", "closed"},
	"bcast":    {"none"},
	"ncl":      {"400", "closed"},
	"zeromf":   {"200", "483"}, // RFC 3261 section 11 lets a UAS answer OPTIONS with Max-Forwards 0
	"cparam01": {"501"},
	"cparam02": {"501"},
	"regescrt": {"501"},
	"sdp01":    {"415", "404"},
	// 3.4 backward compatibility: an RFC 2543 request (no branch).
	"inv2543": {"400", "closed", "404"},
}

// TestRFC4475TortureMessages sends every torture message to a running
// server (SPEC PEER-4): each gets the answer above, and afterwards the
// server still answers OPTIONS, has let go of every connection and did not
// crash (a panic would end the test binary). Only TCP: over UDP the server
// would answer to the Via of each message, and those name hosts off this
// machine.
//
// The RFC's messages reuse branches: cparam01 and cparam02, for one, are
// requests of one transaction (RFC 3261 section 17.2.3), and a server that
// has seen the first takes the second for its retransmission, answered
// on the first's connection or not at all. So the messages go in rounds,
// each to a server of its own that sees every transaction once.
func TestRFC4475TortureMessages(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/rfc4475/*.dat")
	if err != nil || len(files) != len(rfc4475) {
		t.Fatalf("%d torture messages in testdata/rfc4475, %d expected (%v)", len(files), len(rfc4475), err)
	}
	var rounds [][]tortureMessage
	seen := map[string]int{} // how many of each transaction's messages are in rounds
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := tortureMessage{strings.TrimSuffix(filepath.Base(file), ".dat"), text}
		key := m.name // a response, or a request sipgo cannot parse, goes alone
		if msg, err := sip.ParseMessage(text); err == nil {
			if req, ok := msg.(*sip.Request); ok {
				if k, err := sip.ServerTxKeyMake(req); err == nil {
					key = k
				}
			}
		}
		round := seen[key]
		seen[key]++
		if round == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[round] = append(rounds[round], m)
	}
	for _, round := range rounds {
		tortureRound(t, round)
	}
}

// A tortureMessage is one of testdata/rfc4475's files.
type tortureMessage struct {
	name string
	text []byte
}

// tortureRound sends msgs to a new server, several at once, and checks
// each answer against rfc4475, then that the server is still up and has
// let go of every connection.
func tortureRound(t *testing.T, msgs []tortureMessage) {
	f := newFixture(t, Limits{})
	type result struct{ name, got string }
	results := make(chan result, len(msgs))
	sem := make(chan struct{}, 8) // well under MaxConnsPerSource
	var wg sync.WaitGroup
	for _, m := range msgs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results <- result{m.name, torture(t, f.srv.Addrs()["TCP"], m.text)}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		if want := rfc4475[r.name]; !slices.Contains(want, r.got) {
			t.Errorf("%s over TCP: got %s, want one of %v", r.name, r.got, want)
		}
	}

	// Still up.
	p := f.tcp("127.0.0.2")
	p.request("OPTIONS", "sip:um.localhost", "after-torture", "", "")
	p.mustStatus(200)
	p.conn.Close()
	// Every torture connection has been let go of.
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.sources.openConns(mustAddr("127.0.0.2")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections from 127.0.0.2 still counted", f.srv.sources.openConns(mustAddr("127.0.0.2")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openConns is how many connections from ip the server counts as open.
func (s *sources) openConns(ip netip.Addr) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if src := s.byIP[ip]; src != nil {
		return src.conns
	}
	return 0
}

// torture sends msg on a fresh TCP connection from GW2 and says what
// came back within three seconds (a loaded CI machine under -race is
// slow): the first status code, "closed" or "none".
func torture(t *testing.T, to net.Addr, msg []byte) string {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 3 * time.Second}
	conn, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Error(err)
		return "dial failed"
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		return "closed"
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	switch {
	case err != nil && isTimeout(err):
		return "none"
	case err != nil:
		return "closed"
	}
	var status int
	if _, err := fmt.Sscanf(line, "SIP/2.0 %d", &status); err != nil {
		return fmt.Sprintf("not a response: %q", line)
	}
	return fmt.Sprint(status)
}

// A gateway that requires an extension learns which one openum lacks
// (RFC 3261 section 8.2.2.3), and can call again without it.
func TestRequireGets420WithUnsupported(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Limits{})
	p := f.tcp("127.0.0.2")
	p.request("INVITE", "sip:5000@um.localhost", "req1", "Require: 100rel, timer\n", sdpOffer("127.0.0.2", false))
	if res := p.mustStatus(420); res.header.Get("Unsupported") != "100rel, timer" {
		t.Fatalf("420 with Unsupported %q", res.header.Get("Unsupported"))
	}
	p.request("ACK", "sip:5000@um.localhost", "req1", "", "")
	_, tag := placeCall(t, p, "5000", "req2", sdpOffer("127.0.0.2", false))
	hangUp(t, p, "5000", "req2", tag)
}
