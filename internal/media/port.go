package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// ErrNoPort is wrapped by OpenPort's error when no UDP port of the range
// could be opened (a busy server: the call gets 503, not 488).
var ErrNoPort = errors.New("media: no free RTP port")

// Ports is where a call's audio may be received: the even UDP ports of
// First..Last on IP.
type Ports struct {
	IP          netip.Addr
	First, Last int
}

// Port is one call's audio port, open, and the local description that
// names it, before the stream starts. The server answers a caller's offer
// on one; a caller (openum test connectivity, test load) offers on one and
// starts it with the answer. Either Start or Close must follow OpenPort.
type Port struct {
	Local     *Local // what this side sends the other: the answer, or the offer
	sock      *socket
	answering bool
}

// OpenPort opens a UDP port in ports and builds the local description on
// it: the answer to offer, or, with offer nil, an offer of G.711 (see
// NewLocalOffer). With secure the description carries a fresh SRTP key.
func OpenPort(ports Ports, offer *Remote, secure bool) (*Port, error) {
	sock, err := listenUDP(ports)
	if err != nil {
		return nil, err
	}
	p := &Port{sock: sock, answering: offer != nil}
	addr := sock.local
	if p.answering {
		p.Local, err = NewLocalAnswer(offer, addr, secure)
	} else {
		p.Local, err = NewLocalOffer(addr, secure)
	}
	if err != nil {
		sock.Close()
		return nil, err
	}
	return p, nil
}

// Start starts the stream with the remote description: the offer the port
// answered, or the answer to the port's offer, which must keep the offer's
// codec and security (see Accept; Local becomes what was agreed). On error
// the port is closed.
func (p *Port) Start(remote *Remote) (*Stream, error) {
	var err error
	if !p.answering {
		p.Local, err = p.Local.Accept(remote)
	}
	var s *Stream
	if err == nil {
		s, err = newStream(p.sock, remote, p.Local)
	}
	if err != nil {
		p.sock.Close()
		return nil, err
	}
	return s, nil
}

// Close closes a port whose stream never started.
func (p *Port) Close() error { return p.sock.Close() }

// listenUDP opens a random even port of ports.
func listenUDP(ports Ports) (*socket, error) {
	span := (ports.Last - ports.First) / 2
	if span <= 0 {
		return nil, fmt.Errorf("%w: the range %d-%d is empty", ErrNoPort, ports.First, ports.Last)
	}
	start := rand.IntN(span)
	for i := range span {
		port := ports.First + 2*((start+i)%span)
		if sock, err := listenSocket(netip.AddrPortFrom(ports.IP, uint16(port))); err == nil {
			return sock, nil
		}
	}
	return nil, fmt.Errorf("%w in %d-%d on %s", ErrNoPort, ports.First, ports.Last, ports.IP)
}
