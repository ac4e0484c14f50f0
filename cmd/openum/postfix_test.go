package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

// These tests deliver voice messages to a real mail server: Postfix from
// Debian, run by the test on loopback with a configuration of its own. Like
// Exchange 2007's Hub Transport it requires STARTTLS and a client certificate it
// trusts, and it delivers into a Maildir the test reads.

// mxMailbox is the one address the mail server accepts.
const mxMailbox = "alice@example.test"

// postfix is one Postfix instance: its configuration, queue, certificates
// and Maildirs in dir.
type postfix struct {
	t    *testing.T
	dir  string
	port int
	log  peertest.Output

	mu     sync.Mutex // start and stop
	cmd    *exec.Cmd
	exited chan struct{}
}

// newPostfix configures (but does not start) a Postfix that listens on a
// free loopback port, requires STARTTLS and a client certificate that
// chains to clientCA, and delivers mail for mxMailbox into a Maildir. Its
// server certificate comes from a CA of its own, ca.crt in dir, and names
// localhost and 127.0.0.1.
func newPostfix(t *testing.T, clientCA string) *postfix {
	t.Helper()
	// Postfix's daemons drop root, and virtual(8) writes the Maildirs as
	// nobody: the directory must be searchable by them, which t.TempDir's
	// parent is not.
	dir, err := os.MkdirTemp("", "openum-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	m := &postfix{t: t, dir: dir, port: peertest.FreePort(t)}
	t.Cleanup(func() {
		m.stop()
		if t.Failed() {
			t.Logf("Postfix's log:\n%s", m.log.String())
		}
		os.RemoveAll(dir)
	})
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	for _, d := range []string{"conf", "queue", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(os.Chmod(dir, 0o755), os.Chown(filepath.Join(dir, "mail"), uid, gid)); err != nil {
		t.Fatal(err)
	}
	runScript(t, dir, `
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=Mail CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mx.key -out mx.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > mx.ext
openssl x509 -req -in mx.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out mx.crt -days 1 -extfile mx.ext 2>/dev/null
cp `+clientCA+` clients.pem`)
	mainCF := fmt.Sprintf(`# A Postfix of the test's own, in %[1]s.
compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.localhost
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = /dev/stdout

# STARTTLS is required (no MAIL FROM in clear), and so is a client
# certificate that chains to clients.pem.
smtpd_tls_security_level = encrypt
smtpd_tls_cert_file = %[1]s/mx.crt
smtpd_tls_key_file = %[1]s/mx.key
smtpd_tls_CAfile = %[1]s/clients.pem
smtpd_tls_ask_ccert = yes
smtpd_tls_req_ccert = yes
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1

# One mailbox, a Maildir, written as nobody.
virtual_mailbox_domains = example.test
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = inline:{ %[2]s=%[2]s/ }
virtual_uid_maps = static:%[3]d
virtual_gid_maps = static:%[4]d
`, dir, mxMailbox, uid, gid)
	// No chroot: the queue is not laid out for one.
	masterCF := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, m.port)
	if err := errors.Join(
		os.WriteFile(filepath.Join(dir, "conf", "main.cf"), []byte(mainCF), 0o644),
		os.WriteFile(filepath.Join(dir, "conf", "master.cf"), []byte(masterCF), 0o644),
	); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *postfix) addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }

// ca is the file of the CA that signed the mail server's certificate.
func (m *postfix) ca() string { return filepath.Join(m.dir, "ca.crt") }

// start runs Postfix in the foreground (its log to stdout, kept in m.log)
// and returns once it accepts connections.
func (m *postfix) start() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cmd = exec.Command("postfix", "-c", filepath.Join(m.dir, "conf"), "start-fg")
	m.cmd.Stdout, m.cmd.Stderr = &m.log, &m.log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(m.cmd, m.exited)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", m.addr(), time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-m.exited:
			m.t.Fatalf("Postfix exited at start:\n%s", m.log.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("Postfix does not listen on %s:\n%s", m.addr(), m.log.String())
		}
	}
}

// stop ends Postfix, all its processes, and returns once they are gone and
// its port is closed. Safe to call from any goroutine, and when stopped.
func (m *postfix) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	// The master daemon runs in a session of its own, with its daemons in
	// its process group; SIGTERM makes it end them and exit.
	master := 0
	if b, err := os.ReadFile(filepath.Join(m.dir, "queue", "pid", "master.pid")); err == nil {
		master, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if master > 0 {
		_ = syscall.Kill(master, syscall.SIGTERM)
	}
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		m.t.Errorf("Postfix did not stop on SIGTERM; killing it")
	}
	// Its daemons go too (zombies count until init reaps them: bounded).
	for i := 0; master > 0 && syscall.Kill(-master, 0) == nil && i < 140; i++ {
		if i == 100 {
			_ = syscall.Kill(-master, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
	<-m.exited
	m.cmd = nil
}

// messages returns the files in the mailbox's Maildir.
func (m *postfix) messages() []string {
	files, _ := filepath.Glob(filepath.Join(m.dir, "mail", mxMailbox, "new", "*"))
	return files
}

// waitMessage waits for the first message in the Maildir and returns it.
func (m *postfix) waitMessage(s *site, within time.Duration) []byte {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for len(m.messages()) == 0 {
		if time.Now().After(deadline) {
			m.t.Fatalf("no message reached Postfix's Maildir in %v; openum's events:\n%s", within, s.openum("events"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	raw, err := os.ReadFile(m.messages()[0])
	if err != nil {
		m.t.Fatal(err)
	}
	return raw
}
