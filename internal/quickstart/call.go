package quickstart

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/openum/openum/internal/baresip"
	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/sip"
	"github.com/openum/openum/internal/voicemail"
)

// Delivered is the voice message the test call left.
type Delivered struct {
	Mail    string // the message in the mailbox's Maildir
	Audio   string // its recording, saved as Dir/voicemessage.wav
	Seconds float64
}

// Call calls the mailbox at addr, the server's TLS address, as the test
// gateway: it waits out the greeting and the tone, speaks, hangs up and
// waits up to 30 s for the message to reach mail. say tells each step as
// it happens.
func (s *Site) Call(ctx context.Context, addr string, mail delivery.Maildir, say func(string, ...any)) (*Delivered, error) {
	roots := x509.NewCertPool()
	roots.AddCert(s.ServerCert.X509)
	own := &tls.Certificate{Certificate: [][]byte{s.GatewayCert.Raw}, PrivateKey: s.gatewayKey, Leaf: s.GatewayCert}
	caller, err := sip.NewCaller(sip.CallerConfig{Server: addr, Transport: "TLS", LocalIP: netip.MustParseAddr("127.0.0.1"), From: "5550100",
		TLS: &tls.Config{MinVersion: tls.VersionTLS12, ServerName: Server, RootCAs: roots,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return own, nil }}})
	if err != nil {
		return nil, err
	}
	defer caller.Close()
	call, err := caller.Call(ctx, Extension, true)
	if err != nil {
		return nil, fmt.Errorf("quickstart: the test call failed: %w", err)
	}
	say("Call up over mutual TLS: INVITE answered in %s; SRTP %s both ways", call.Setup.Round(time.Millisecond), call.Local.Crypto.Suite)
	go func() { // the greeting and the tone; a caller listens
		for range call.Audio.Received() {
		}
	}()
	greeting := len(voicemail.Prompt("greeting"))
	time.Sleep(time.Duration(greeting)*time.Second/media.SampleRate + time.Second)
	speech := voicemail.Prompt("saved")
	say("Speaking %.1f s after the tone (recording)", float64(len(speech))/media.SampleRate)
	if err := call.Audio.Play(ctx, speech); err != nil {
		return nil, err
	}
	_ = call.Hangup(ctx)
	say("Hung up; the message is on disk and goes to delivery")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		m, err := mail.FirstNew(Mailbox)
		if err != nil {
			return nil, err
		}
		if m != nil {
			return s.save(m)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("quickstart: no voice message delivered within 30 s (openum events says why)")
}

// save writes the message's recording to Dir/voicemessage.wav.
func (s *Site) save(m *delivery.VoiceMessage) (*Delivered, error) {
	pcm, err := media.ReadWAV(bytes.NewReader(m.Audio))
	if err != nil {
		return nil, err
	}
	wav := filepath.Join(s.Dir, "voicemessage.wav")
	if err := os.WriteFile(wav, m.Audio, 0o600); err != nil {
		return nil, err
	}
	return &Delivered{Mail: m.Path, Audio: wav, Seconds: float64(len(pcm)) / media.SampleRate}, nil
}

// WriteBaresip writes a baresip configuration, in Dir/baresip, that calls
// as the test gateway, over mutual TLS with SRTP, and says nothing through
// the greeting and the tone, then words. It returns the configuration's
// folder.
func (s *Site) WriteBaresip() string {
	cfg := filepath.Join(s.Dir, "baresip")
	caller := filepath.Join(s.Dir, "caller.wav")
	if w, err := media.CreateWAV(caller); err == nil {
		_ = w.Write(make([]int16, len(voicemail.Prompt("greeting"))+media.SampleRate))
		_ = w.Write(voicemail.Prompt("saved"))
		_ = w.Close()
	}
	_ = os.WriteFile(filepath.Join(s.Dir, "server.crt"), certs.CertificatePEM(s.ServerCert.X509), 0o644)
	_ = baresip.Write(cfg, baresip.Config{
		Listen:      "127.0.0.1:5064",
		Certificate: filepath.Join(s.Dir, "gateway.pem"),
		CAFile:      filepath.Join(s.Dir, "server.crt"),
		AudioSource: caller,
		Account:     "<sip:gateway@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU,PCMA",
	})
	return cfg
}
