package delivery

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFirstNewReadsWhatDeliverWrote(t *testing.T) {
	d := Maildir{Dir: t.TempDir()}
	if m, err := d.FirstNew("alice@example.test"); m != nil || err != nil {
		t.Fatalf("an empty Maildir: %v, %v; want nothing and no error", m, err)
	}
	audio := bytes.Repeat([]byte("RIFFwave"), 100)
	msg := testMessage("m1")
	if err := d.Deliver(context.Background(), msg, Compose(msg, audio)); err != nil {
		t.Fatal(err)
	}
	m, err := d.FirstNew("Alice@example.test")
	if err != nil || m == nil {
		t.Fatalf("FirstNew: %v, %v", m, err)
	}
	if !bytes.Equal(m.Audio, audio) || m.Header.Get("X-CallID") != "abc@gw1" || filepath.Dir(m.Path) != filepath.Join(d.box(msg.To), "new") {
		t.Fatalf("read back %s, X-CallID %q, %d bytes of audio", m.Path, m.Header.Get("X-CallID"), len(m.Audio))
	}
}

func TestFirstNewNamesAMessageWithoutAudio(t *testing.T) {
	d := Maildir{Dir: t.TempDir()}
	dir := filepath.Join(d.box("alice@example.test"), "new")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "1.plain")
	raw := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := d.FirstNew("alice@example.test")
	if err == nil || !strings.Contains(err.Error(), "no audio attachment") || !strings.Contains(err.Error(), path) {
		t.Fatalf("a message without audio: %v; want the reason and the file", err)
	}
}
