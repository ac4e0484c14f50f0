package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

// This file drives the third-party programs the peer tests use (openssl,
// stunnel4, sipp, sipvicious, baresip, tshark): each runs bounded by a
// timeout, in its own process group, and is killed when its test ends.

// tool is a child process with its combined output.
type tool struct {
	name string
	cmd  *exec.Cmd
	out  *peertest.Output
	done chan struct{}
	err  error
}

// startTool starts name with args; it is killed after limit, or when the
// test ends, whichever comes first.
func startTool(t testing.TB, limit time.Duration, dir string, name string, args ...string) *tool {
	t.Helper()
	return startToolIn(t, nil, limit, dir, name, args...)
}

// startToolIn is startTool with stdin.
func startToolIn(t testing.TB, stdin io.Reader, limit time.Duration, dir string, name string, args ...string) *tool {
	t.Helper()
	return startToolWith(t, stdin, nil, limit, dir, name, args...)
}

// startToolEnv is startTool with more environment variables.
func startToolEnv(t testing.TB, env []string, limit time.Duration, dir string, name string, args ...string) *tool {
	t.Helper()
	return startToolWith(t, nil, env, limit, dir, name, args...)
}

func startToolWith(t testing.TB, stdin io.Reader, env []string, limit time.Duration, dir string, name string, args ...string) *tool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = append(append(os.Environ(), "HOME="+dir), env...) // sipvicious and baresip keep state under $HOME
	tl := &tool{name: name, cmd: cmd, out: &peertest.Output{}, done: make(chan struct{})}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, tl.out, tl.out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		tl.err = cmd.Wait()
		cancel()
		close(tl.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-tl.done
	})
	return tl
}

// wait waits for the tool to exit and returns its exit code (-1 if it was
// killed).
func (tl *tool) wait() int {
	<-tl.done
	var ee *exec.ExitError
	switch {
	case tl.err == nil:
		return 0
	case errors.As(tl.err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// stop ends a tool that serves (stunnel, tshark) politely, then waits:
// sig goes to the tool itself, which stops its children (tshark's dumpcap
// must flush the capture); what is left is killed after 5 s.
func (tl *tool) stop(sig syscall.Signal) {
	select {
	case <-tl.done:
		return
	default:
	}
	_ = tl.cmd.Process.Signal(sig)
	select {
	case <-tl.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-tl.cmd.Process.Pid, syscall.SIGKILL)
		<-tl.done
	}
}

// TestMain also serves as the helper process some benchmarks start (see
// idleTLSClients and handshakes), and removes the shared PKI at the end.
func TestMain(m *testing.M) {
	if os.Getenv("OPENUM_IDLE_TLS_CLIENTS") != "" {
		idleTLSClients()
		return
	}
	if os.Getenv("OPENUM_HANDSHAKES") != "" {
		handshakes()
		return
	}
	code := m.Run()
	if pkiRoot != "" {
		os.RemoveAll(pkiRoot)
	}
	os.Exit(code)
}

// idleTLSClients opens $OPENUM_IDLE_TLS_CLIENTS mutual TLS connections to
// the server helperEnv names, says "N connected" and holds them until killed.
func idleTLSClients() {
	n, _ := strconv.Atoi(os.Getenv("OPENUM_IDLE_TLS_CLIENTS"))
	addr, conf := helperTLS()
	conns := make([]net.Conn, 0, n)
	for len(conns) < n {
		c, err := tls.Dial("tcp", addr, conf)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		conns = append(conns, c)
	}
	fmt.Printf("%d connected\n", len(conns))
	select {}
}

// helperEnv is the environment of a helper process (see TestMain) that
// reaches f's TLS port as a gateway with the key pair in certFile and
// keyFile, trusting f's server certificate; helperTLS reads it.
func helperEnv(f *fixture, certFile, keyFile string) []string {
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.cfg.Certs.Current().X509.Raw})
	return []string{"OPENUM_HELPER_ADDR=" + f.srv.Addrs()["TLS"].String(),
		"OPENUM_HELPER_CERT=" + certFile, "OPENUM_HELPER_KEY=" + keyFile, "OPENUM_HELPER_ROOT=" + string(root)}
}

// helperTLS is, in a helper process, the server's address and the mutual
// TLS configuration that helperEnv gave it; it exits if the key pair does
// not load.
func helperTLS() (string, *tls.Config) {
	cert, err := tls.LoadX509KeyPair(os.Getenv("OPENUM_HELPER_CERT"), os.Getenv("OPENUM_HELPER_KEY"))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(os.Getenv("OPENUM_HELPER_ROOT")))
	return os.Getenv("OPENUM_HELPER_ADDR"), &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: roots, ServerName: "um.localhost", MinVersion: tls.VersionTLS12}
}

// runTool runs a tool to its end and returns its output and exit code.
func runTool(t testing.TB, limit time.Duration, dir, name string, args ...string) (string, int) {
	t.Helper()
	tl := startTool(t, limit, dir, name, args...)
	rc := tl.wait()
	return tl.out.String(), rc
}

// waitOutput waits until the tool prints want.
func waitOutput(t testing.TB, tl *tool, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(tl.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not say %q:\n%s", tl.name, want, tl.out.String())
		}
		select {
		case <-tl.done:
			t.Fatalf("%s exited before saying %q:\n%s", tl.name, want, tl.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitListening waits up to 10 s for tl to accept TCP connections on addr.
func waitListening(t testing.TB, tl *tool, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s:\n%s", tl.name, addr, tl.out.String())
		}
	}
}

// --- stunnel4: mutual TLS in front of TLS-less tools ---

// stunnel runs a TLS client tunnel: plain TCP on the returned loopback
// address, mutual TLS with cert (a gatewayCerts stem) to the server's TLS
// port, verifying the server's certificate for um.localhost.
func (f *fixture) stunnel(cert string) (string, *tool) {
	f.t.Helper()
	accept := net.JoinHostPort("127.0.0.1", strconv.Itoa(peertest.FreePort(f.t)))
	return accept, f.runStunnel(cert, accept, f.srv.Addrs()["TLS"].String(), "client = yes\ncheckHost = um.localhost\n")
}

// stunnelServer runs a gateway's TLS server in front of the plain TCP
// address backend: mutual TLS on accept, presenting cert (a gatewayCerts
// stem) and requiring openum's own certificate.
func (f *fixture) stunnelServer(cert, accept, backend string) *tool {
	f.t.Helper()
	return f.runStunnel(cert, accept, backend, "requireCert = yes\n")
}

// runStunnel runs stunnel from accept to connect with cert, trusting
// exactly the server's current certificate, and waits until it listens.
func (f *fixture) runStunnel(cert, accept, connect, more string) *tool {
	f.t.Helper()
	p := sharedPKI(f.t)
	dir := f.t.TempDir()
	serverCA := filepath.Join(dir, "server.crt")
	if err := os.WriteFile(serverCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.cfg.Certs.Current().X509.Raw}), 0o600); err != nil {
		f.t.Fatal(err)
	}
	conf := fmt.Sprintf(`foreground = yes
pid =
debug = 6
[gateway]
accept = %s
connect = %s
cert = %s
key = %s
CAfile = %s
verifyChain = yes
sslVersionMin = TLSv1.2
%s`, accept, connect, p.path(cert+".crt"), p.path(cert+".key"), serverCA, more)
	path := filepath.Join(dir, "stunnel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		f.t.Fatal(err)
	}
	tl := startTool(f.t, 2*time.Minute, dir, "stunnel4", path)
	waitOutput(f.t, tl, "bound to "+accept, 10*time.Second)
	f.t.Cleanup(func() { tl.stop(syscall.SIGTERM) })
	return tl
}

// --- sipp (Debian's sip-tester: TCP only; TLS through stunnel) ---

// sippRun is what one sipp run placed.
type sippRun struct {
	rc                 int // 0 all calls succeeded, 1 some failed, 99 none placed, 255 fatal
	successful, failed int
	out                string
	dir                string // sipp's working directory: its CSV and logs
}

// sipp runs a scenario from testdata/sipp from the loopback address from to
// the TCP address to, with extra options such as -m, -r, -s. Its ports were
// free when picked; one taken before sipp bound it stops sipp before any
// call, and the run is made again on others.
func sipp(t testing.TB, scenario, from, to string, limit time.Duration, extra ...string) *sippRun {
	t.Helper()
	for attempt := 1; ; attempt++ {
		r := sippOnce(t, scenario, from, to, limit, extra...)
		if r.rc == 0 || attempt == 3 || !strings.Contains(r.String(), "Address already in use") {
			return r
		}
	}
}

func sippOnce(t testing.TB, scenario, from, to string, limit time.Duration, extra ...string) *sippRun {
	t.Helper()
	dir := t.TempDir()
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-sf", sf, "-i", from, "-p", strconv.Itoa(peertest.FreePort(t)),
		"-mi", from, "-mp", strconv.Itoa(peertest.FreePort(t)), "-nostdin", "-nr",
		"-timeout", strconv.Itoa(int(limit/time.Second)) + "s", "-timeout_error", "-recv_timeout", "5000",
		"-trace_stat", "-stf", "stats.csv", "-trace_err", "-error_file", "errors.log", "-trace_screen", "-screen_file", "screen.log"}
	if !slices.Contains(extra, "-t") {
		args = append(args, "-t", "t1") // one connection for all calls, as gateways do
	}
	args = append(args, extra...)
	args = append(args, to)
	out, rc := runTool(t, limit+10*time.Second, dir, "sipp", args...)
	r := &sippRun{rc: rc, out: out, dir: dir}
	r.successful, r.failed = sippCounts(filepath.Join(dir, "stats.csv"))
	return r
}

// sippCounts reads the cumulative successful and failed call counts from
// the last line of sipp's statistics CSV.
func sippCounts(path string) (ok, failed int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1, -1
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return -1, -1
	}
	head, last := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if i >= len(last) {
			break
		}
		switch h {
		case "SuccessfulCall(C)":
			ok, _ = strconv.Atoi(last[i])
		case "FailedCall(C)":
			failed, _ = strconv.Atoi(last[i])
		}
	}
	return ok, failed
}

func (r *sippRun) String() string {
	errs, _ := os.ReadFile(filepath.Join(r.dir, "errors.log"))
	screen, _ := os.ReadFile(filepath.Join(r.dir, "screen.log"))
	return fmt.Sprintf("sipp exit %d, %d successful, %d failed\n%s\n--- errors:\n%s\n--- screen:\n%s", r.rc, r.successful, r.failed, r.out, errs, screen)
}
