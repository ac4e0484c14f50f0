package cli

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/sip"
	"github.com/openum/openum/internal/voicemail"
)

// The quickstart's names: a loopback-only site anyone can recreate.
const (
	qsServer    = "localhost"
	qsGateway   = "gateway.localhost"
	qsMailbox   = "alice@example.test"
	qsExtension = "12345"
)

func (a *app) quickstartCommand() *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "quickstart",
		Short: "Set up a Secured site on loopback and leave a voice message through it, step by step",
		Long: `Set up a complete site in an empty data directory and prove it works: a
Secured dial plan, a test gateway with its own certificate (trusted by the
server), a hunt group, a mailbox policy and a mailbox; then start the server on
loopback and call it as the gateway, over mutual TLS with SRTP, leaving a
spoken message. Each step is shown as it happens; the end says where the voice
message landed and how to play it. --keep-running leaves the server up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.quickstart(cmd, keep) },
	}
	cmd.Flags().BoolVar(&keep, "keep-running", false, "leave the server running and show how to call it with baresip")
	return cmd
}

func (a *app) quickstart(cmd *cobra.Command, keep bool) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	say := func(format string, args ...any) { fmt.Fprintf(a.out, "==> "+format+"\n", args...) }
	if _, err := os.Stat(filepath.Join(a.dataDir, "directory.db")); err == nil {
		return fmt.Errorf("quickstart: %s already holds a directory; give an empty one with --data", a.dataDir)
	}
	say("Data directory %s", a.dataDir)

	// The gateway's identity: its own certificate, which the server trusts.
	store, err := a.certStore()
	if err != nil {
		return err
	}
	gwCert, gwKey, err := certs.NewSelfSigned(certs.SelfSignedOptions{FQDN: qsGateway})
	if err != nil {
		return err
	}
	gwDir := filepath.Join(a.dataDir, "quickstart")
	gatewayPEM, err := certs.IdentityPEM(gwCert, gwKey)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(gwDir, 0o700); err != nil {
		return err
	}
	if err := certs.WriteFileAtomic(filepath.Join(gwDir, "gateway.pem"), gatewayPEM, 0o600); err != nil {
		return err
	}
	if _, err := store.Import(certs.CertificatePEM(gwCert), "", true); err != nil {
		return err
	}
	say("Test gateway %s: certificate %s, trusted by the server", qsGateway, certs.Thumbprint(gwCert))

	serverCert, err := store.NewSelfSigned(certs.SelfSignedOptions{FQDN: qsServer, SANs: []string{"127.0.0.1"}})
	if err != nil {
		return err
	}
	var mailboxPIN string
	_, err = a.update(cmd, func(s *directory.Snapshot) error {
		plan := directory.NewDialPlan("QuickStart")
		plan.NumberOfDigitsInExtension, plan.VoIPSecurity = len(qsExtension), directory.Secured
		gw := directory.NewIPGateway("TestGateway")
		gw.Address, gw.Port = qsGateway, 5061
		sv := directory.NewServer(qsServer)
		sv.DialPlans = directory.List[string]{plan.Name}
		if err := errors.Join(s.AddDialPlan(plan), s.AddIPGateway(gw), s.AddServer(sv),
			s.AddHuntGroup(directory.HuntGroup{Name: "QuickStartHG", UMIPGateway: gw.Name, UMDialPlan: plan.Name}),
			s.AddMailboxPolicy(directory.NewMailboxPolicy("QuickStartPolicy", plan.Name)),
			s.AddMailbox(directory.Mailbox{EmailAddress: qsMailbox, DisplayName: "Alice (quickstart)", UMDialPlan: plan.Name,
				UMMailboxPolicy: "QuickStartPolicy", Extensions: directory.List[string]{qsExtension}, PINExpired: true})); err != nil {
			return err
		}
		pin, err := s.AssignPIN(qsMailbox, "", true)
		mailboxPIN = pin
		return err
	})
	if err != nil {
		return err
	}
	say("Directory: dial plan QuickStart (Secured), gateway TestGateway (%s), hunt group, policy, mailbox %s (extension %s, PIN %s, shown once)",
		qsGateway, qsMailbox, qsExtension, mailboxPIN)

	record, err := a.serverRecord(cmd, qsServer)
	if err != nil {
		return err
	}
	o := serveOptions{listen: "127.0.0.1", sipPort: -1, tlsPort: -1, tlsMin: "1.2", limits: sip.DefaultLimits, drain: 10 * time.Second, minFree: defaultMinFreeSpace}
	n, err := a.start(ctx, record, o)
	if err != nil {
		return err
	}
	defer n.stop(o.drain)
	tlsAddr := n.srv.Addrs()["TLS"].String()
	say("Server %s listening on TLS %s and TCP %s, certificate %s (%s)", qsServer, tlsAddr, n.srv.Addrs()["TCP"], serverCert.Thumbprint(), n.manager.Selection().Chosen.Verdict)

	wav, err := a.quickstartCall(ctx, say, tlsAddr, gwCert, gwKey, serverCert)
	if err != nil {
		return err
	}
	say("Voice message delivered: %s", wav.mail)
	say("Its recording: %s (%.1f s, 8 kHz mono)", wav.audio, wav.seconds)
	fmt.Fprintf(a.out, "\nPlay it with:  play %s      (sox; or: aplay %s)\n", wav.audio, wav.audio)
	if !keep {
		return nil
	}
	a.baresipHint(tlsAddr, gwDir, serverCert)
	<-ctx.Done()
	return nil
}

type delivered struct {
	mail, audio string
	seconds     float64
}

// quickstartCall calls the mailbox as the test gateway, waits out the
// greeting and tone, speaks, hangs up and waits for the delivery.
func (a *app) quickstartCall(ctx context.Context, say func(string, ...any), addr string, gwCert *x509.Certificate, gwKey crypto.Signer, server *certs.Certificate) (*delivered, error) {
	roots := x509.NewCertPool()
	roots.AddCert(server.X509)
	own := &tls.Certificate{Certificate: [][]byte{gwCert.Raw}, PrivateKey: gwKey, Leaf: gwCert}
	caller, err := sip.NewCaller(sip.CallerConfig{Server: addr, Transport: "TLS", LocalIP: netip.MustParseAddr("127.0.0.1"), From: "5550100",
		TLS: &tls.Config{MinVersion: tls.VersionTLS12, ServerName: qsServer, RootCAs: roots,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return own, nil }}})
	if err != nil {
		return nil, err
	}
	defer caller.Close()
	call, err := caller.Call(ctx, qsExtension, true)
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
		files, _ := filepath.Glob(filepath.Join(a.dataDir, "mail", delivery.MaildirName(qsMailbox), "new", "*"))
		if len(files) > 0 {
			return extractRecording(files[0], filepath.Join(a.dataDir, "quickstart", "voicemessage.wav"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("quickstart: no voice message delivered within 30 s (openum events says why)")
}

// extractRecording saves the message's audio attachment to wavPath.
func extractRecording(mailPath, wavPath string) (*delivered, error) {
	raw, err := os.ReadFile(mailPath)
	if err != nil {
		return nil, err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if err != nil {
			return nil, fmt.Errorf("quickstart: the message has no audio attachment: %w", err)
		}
		if p.FileName() == "" {
			continue
		}
		audio, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil {
			return nil, err
		}
		pcm, err := media.ReadWAV(bytes.NewReader(audio))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(wavPath, audio, 0o600); err != nil {
			return nil, err
		}
		return &delivered{mail: mailPath, audio: wavPath, seconds: float64(len(pcm)) / media.SampleRate}, nil
	}
}

// baresipHint writes a baresip configuration that calls the running server
// as the test gateway, and prints how to use it.
func (a *app) baresipHint(tlsAddr, dir string, server *certs.Certificate) {
	cfg := filepath.Join(dir, "baresip")
	_ = os.MkdirAll(cfg, 0o700)
	// What baresip says: silence through the greeting and tone, then words.
	caller := filepath.Join(dir, "caller.wav")
	if w, err := media.CreateWAV(caller); err == nil {
		_ = w.Write(make([]int16, len(voicemail.Prompt("greeting"))+media.SampleRate))
		_ = w.Write(voicemail.Prompt("saved"))
		_ = w.Close()
	}
	_ = os.WriteFile(filepath.Join(dir, "server.crt"), certs.CertificatePEM(server.X509), 0o644)
	config := fmt.Sprintf(`sip_listen 127.0.0.1:5064
net_interface 127.0.0.1
sip_certificate %s
sip_cafile %s
audio_player alsa,null
audio_source aufile,%s
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module alsa.so
module aufile.so
module srtp.so
module_app account.so
module_app menu.so
`, filepath.Join(dir, "gateway.pem"), filepath.Join(dir, "server.crt"), caller)
	_ = os.WriteFile(filepath.Join(cfg, "config"), []byte(config), 0o600)
	_ = os.WriteFile(filepath.Join(cfg, "accounts"), []byte("<sip:gateway@127.0.0.1;transport=tls>;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU,PCMA\n"), 0o600)
	fmt.Fprintf(a.out, "\nThe server keeps running (Ctrl-C stops it). Call it as the test gateway with baresip:\n\n"+
		"  baresip -f %s -e \"/dial sip:%s@%s;transport=tls\" -t 20\n\n"+
		"(edit audio_source in %s/config to send your own 8 kHz WAV)\n", cfg, qsExtension, tlsAddr, cfg)
}
