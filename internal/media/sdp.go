// Package media negotiates and carries a call's audio: SDP offer/answer
// (pion/sdp), RTP and SRTP with SDES keys (RFC 4568).
package media

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// G.711 payload types, µ-law first (SPEC MEDIA-1).
const (
	PCMU = 0
	PCMA = 8
)

// Direction is an SDP media direction attribute (RFC 3264 section 6.1),
// from the point of view of the side that wrote it.
type Direction string

// The four directions; a stream with none is sendrecv.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly" // a caller putting the call on hold
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Sends reports whether the side that wrote d sends audio.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly || d == "" }

// Answer returns the direction that answers d.
func (d Direction) Answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Crypto is one acceptable a=crypto line of an offer. Key never appears in
// logs or errors.
type Crypto struct {
	Tag   int
	Suite string
	Key   []byte // master key and salt
}

// Remote is the other side's description, as openum reads it from its
// SDP: the caller's offer to the server, or the server's answer to a call
// openum places. Only its audio stream counts.
type Remote struct {
	Addr      netip.AddrPort // where the other side receives audio
	Secure    bool           // the audio is RTP/SAVP
	Codecs    []uint8        // the G.711 payload types it lists, in its order
	Crypto    []Crypto       // the acceptable a=crypto lines, in its order
	Event     int            // telephone-event payload type, or -1
	Direction Direction
}

// ErrNoAudio is returned for an SDP without a usable audio stream.
var ErrNoAudio = errors.New("media: the SDP has no audio stream with G.711")

// ParseRemote reads the other side's SDP, an offer or an answer. It keeps only what openum implements: a
// crypto line with an MKI or a key lifetime too short to matter is
// skipped rather than half understood.
func ParseRemote(body []byte) (*Remote, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("media: bad SDP: %w", err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		o := &Remote{Event: -1, Direction: SendRecv}
		for _, a := range append(sd.Attributes, md.Attributes...) {
			if d := Direction(a.Key); d == SendOnly || d == RecvOnly || d == Inactive || d == SendRecv {
				o.Direction = d // the media level, read last, wins
			}
		}
		switch strings.Join(md.MediaName.Protos, "/") {
		case "RTP/AVP":
		case "RTP/SAVP":
			o.Secure = true
		default:
			continue
		}
		for _, f := range md.MediaName.Formats {
			if f == "0" || f == "8" {
				pt, _ := strconv.Atoi(f)
				o.Codecs = append(o.Codecs, uint8(pt))
			}
		}
		for _, a := range md.Attributes {
			switch a.Key {
			case "crypto":
				if c, ok := parseCrypto(a.Value); ok {
					o.Crypto = append(o.Crypto, c)
				}
			case "rtpmap":
				// telephone-event counts only with a dynamic payload type the
				// m= line lists: an answer must never reuse G.711's for it.
				if pt, name, ok := strings.Cut(a.Value, " "); ok && strings.HasPrefix(strings.ToLower(name), "telephone-event/8000") {
					if n, err := strconv.Atoi(pt); err == nil && n >= 96 && n <= 127 && slices.Contains(md.MediaName.Formats, pt) {
						o.Event = n
					}
				}
			}
		}
		if len(o.Codecs) == 0 {
			continue
		}
		conn := md.ConnectionInformation
		if conn == nil {
			conn = sd.ConnectionInformation
		}
		if conn == nil || conn.Address == nil {
			return nil, errors.New("media: the audio stream has no connection address")
		}
		ip, err := netip.ParseAddr(conn.Address.Address)
		if err != nil {
			return nil, fmt.Errorf("media: connection address %q is not an IP address", conn.Address.Address)
		}
		o.Addr = netip.AddrPortFrom(ip, uint16(md.MediaName.Port.Value))
		if ip.IsUnspecified() && o.Direction == SendRecv {
			o.Direction = SendOnly // c=0.0.0.0 is the old way to hold (RFC 2543)
		}
		return o, nil
	}
	return nil, ErrNoAudio
}

// parseCrypto reads "tag suite inline:key[|lifetime][|MKI:len]" (RFC 4568
// section 9.1) and accepts it only when openum can honour it exactly.
func parseCrypto(v string) (Crypto, bool) {
	fields := strings.Fields(v)
	if len(fields) < 3 {
		return Crypto{}, false
	}
	tag, err := strconv.Atoi(fields[0])
	n, known := keyLen(fields[1])
	if err != nil || !known {
		return Crypto{}, false
	}
	// Several keys, or session parameters we do not implement (such as
	// UNENCRYPTED_SRTP), would change what the stream means: refuse them.
	if len(fields) > 3 || strings.Count(fields[2], "inline:") != 1 {
		return Crypto{}, false
	}
	params := strings.Split(strings.TrimPrefix(fields[2], "inline:"), "|")
	key, err := base64.StdEncoding.DecodeString(params[0])
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(params[0])
	}
	if err != nil || len(key) != n {
		return Crypto{}, false
	}
	for _, p := range params[1:] {
		if strings.Contains(p, ":") {
			return Crypto{}, false // an MKI: openum sends and expects none
		}
		if !validLifetime(p) {
			return Crypto{}, false
		}
	}
	return Crypto{Tag: tag, Suite: fields[1], Key: key}, true
}

// validLifetime accepts "2^N" or a decimal count of packets of at least 2^20.
func validLifetime(p string) bool {
	if exp, ok := strings.CutPrefix(p, "2^"); ok {
		n, err := strconv.Atoi(exp)
		return err == nil && n >= 20 && n <= 48
	}
	n, err := strconv.ParseUint(p, 10, 64)
	return err == nil && n >= 1<<20
}

// Acceptable returns the description's best crypto line by openum's order of
// suites, or false.
func (o *Remote) Acceptable() (Crypto, bool) {
	for _, suite := range suites {
		if i := slices.IndexFunc(o.Crypto, func(c Crypto) bool { return c.Suite == suite.name }); i >= 0 {
			return o.Crypto[i], true
		}
	}
	return Crypto{}, false
}

// Local is this side's description of the audio stream: the answer the
// server gives, or the offer a call openum places makes. Marshal writes it
// as SDP.
type Local struct {
	Addr         netip.AddrPort // where this side receives audio
	Codec        uint8
	Event        int     // telephone-event payload type, or -1
	Crypto       *Crypto // openum's own key for the suite chosen, nil for RTP
	RemoteCrypto *Crypto // the other side's key, nil for RTP
	Direction    Direction
	Session      uint64
	Version      uint64 // the o= line's version: one more for each new answer
}

// NewLocalAnswer is the server's description: the answer to offer, on local. With secure, it chooses the best
// acceptable crypto suite and makes a fresh random key for it.
func NewLocalAnswer(offer *Remote, local netip.AddrPort, secure bool) (*Local, error) {
	now := uint64(time.Now().UnixNano())
	a := &Local{Addr: local, Codec: offer.Codecs[0], Event: offer.Event, Direction: offer.Direction.Answer(), Session: now, Version: now}
	if !secure {
		return a, nil
	}
	remote, ok := offer.Acceptable()
	if !ok {
		return nil, errors.New("media: the offer has no acceptable SRTP crypto suite")
	}
	key, err := newKey(remote.Suite)
	if err != nil {
		return nil, err
	}
	a.RemoteCrypto = &remote
	a.Crypto = &Crypto{Tag: remote.Tag, Suite: remote.Suite, Key: key}
	return a, nil
}

// NewLocalOffer is the description of a call openum places (test connectivity, load
// tests): G.711 µ-law and telephone-event on local, with a fresh
// AES_CM_128_HMAC_SHA1_80 key when secure. Its Marshal is the SDP offer.
func NewLocalOffer(local netip.AddrPort, secure bool) (*Local, error) {
	now := uint64(time.Now().UnixNano())
	o := &Local{Addr: local, Codec: PCMU, Event: 101, Direction: SendRecv, Session: now, Version: now}
	if secure {
		key, err := newKey(offerSuite)
		if err != nil {
			return nil, err
		}
		o.Crypto = &Crypto{Tag: 1, Suite: offerSuite, Key: key}
	}
	return o, nil
}

// Accept checks the remote answer to the offer a made,
// and returns the local side to stream with. A secured offer must come back
// secured, with the same suite: never a silent fall back to RTP.
func (a *Local) Accept(answer *Remote) (*Local, error) {
	local := *a
	if !slices.Contains(answer.Codecs, a.Codec) {
		return nil, fmt.Errorf("media: the answer chose no codec openum offered (%v)", answer.Codecs)
	}
	local.Direction = answer.Direction.Answer()
	if answer.Event < 0 {
		local.Event = -1
	}
	switch {
	case a.Crypto == nil && answer.Secure:
		return nil, errors.New("media: an RTP offer was answered with SRTP")
	case a.Crypto == nil:
		return &local, nil
	case !answer.Secure:
		return nil, errors.New("media: an SRTP offer was answered with plain RTP")
	}
	remote, ok := answer.Acceptable()
	if !ok || remote.Suite != a.Crypto.Suite {
		return nil, errors.New("media: the answer carries no key for the offered SRTP suite")
	}
	local.RemoteCrypto = &remote
	return &local, nil
}

// Reanswer answers a new offer in the same call (a re-INVITE): the same
// port, the same codec when still offered, and openum's key kept when the
// suite is unchanged. A call that was secured stays secured: an offer
// without an acceptable crypto line is refused, never downgraded.
func (a *Local) Reanswer(offer *Remote) (*Local, error) {
	n := *a
	n.Version++
	n.Direction = offer.Direction.Answer()
	n.Event = offer.Event
	if !slices.Contains(offer.Codecs, a.Codec) {
		n.Codec = offer.Codecs[0]
	}
	if a.Crypto == nil {
		if offer.Secure {
			return nil, errors.New("media: the new offer is SRTP only on an RTP call")
		}
		return &n, nil
	}
	remote, ok := offer.Acceptable()
	if !ok || !offer.Secure {
		return nil, errors.New("media: the new offer would drop SRTP from a secured call")
	}
	n.RemoteCrypto = &remote
	if remote.Suite != a.Crypto.Suite {
		key, err := newKey(remote.Suite)
		if err != nil {
			return nil, err
		}
		n.Crypto = &Crypto{Tag: remote.Tag, Suite: remote.Suite, Key: key}
	} else {
		n.Crypto = &Crypto{Tag: remote.Tag, Suite: a.Crypto.Suite, Key: a.Crypto.Key}
	}
	return &n, nil
}

// newKey makes a fresh random SDES key (master key and salt) for suite.
func newKey(suite string) ([]byte, error) {
	n, ok := keyLen(suite)
	if !ok {
		return nil, fmt.Errorf("media: unknown SRTP suite %q", suite)
	}
	key := make([]byte, n)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// Marshal writes the answer as SDP. It appends to one buffer rather than
// formatting: it runs for every call set up (SPEC PERF-2).
func (a *Local) Marshal() []byte {
	ipver := "IP4"
	if a.Addr.Addr().Is6() {
		ipver = "IP6"
	}
	proto := "RTP/AVP"
	if a.Crypto != nil {
		proto = "RTP/SAVP"
	}
	b := make([]byte, 0, 384)
	b = append(b, "v=0\r\no=openum "...)
	b = strconv.AppendUint(b, a.Session, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, a.Version, 10)
	b = append(b, " IN "+ipver+" "...)
	b = a.Addr.Addr().AppendTo(b)
	b = append(b, "\r\ns=openum\r\nc=IN "+ipver+" "...)
	b = a.Addr.Addr().AppendTo(b)
	b = append(b, "\r\nt=0 0\r\nm=audio "...)
	b = strconv.AppendUint(b, uint64(a.Addr.Port()), 10)
	b = append(b, " "+proto+" "...)
	b = strconv.AppendUint(b, uint64(a.Codec), 10)
	if a.Event >= 0 {
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(a.Event), 10)
	}
	if a.Codec == PCMU {
		b = append(b, "\r\na=rtpmap:0 PCMU/8000\r\n"...)
	} else {
		b = append(b, "\r\na=rtpmap:8 PCMA/8000\r\n"...)
	}
	if a.Event >= 0 {
		b = append(b, "a=rtpmap:"...)
		b = strconv.AppendInt(b, int64(a.Event), 10)
		b = append(b, " telephone-event/8000\r\na=fmtp:"...)
		b = strconv.AppendInt(b, int64(a.Event), 10)
		b = append(b, " 0-16\r\n"...)
	}
	if a.Crypto != nil {
		b = append(b, "a=crypto:"...)
		b = strconv.AppendInt(b, int64(a.Crypto.Tag), 10)
		b = append(b, ' ')
		b = append(b, a.Crypto.Suite...)
		b = append(b, " inline:"...)
		b = base64.StdEncoding.AppendEncode(b, a.Crypto.Key)
		b = append(b, "\r\n"...)
	}
	b = append(b, "a=ptime:20\r\na="...)
	b = append(b, a.Direction...)
	return append(b, "\r\n"...)
}
