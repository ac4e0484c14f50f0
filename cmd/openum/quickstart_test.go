package main

import (
	"bufio"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/voicemail"
)

// The README's first command on an empty directory leaves a Secured voice
// message whose recording plays: a valid WAV of the expected length.
func TestQuickstart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, err := exec.Command(openumBin, "--data", data, "quickstart").CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out)
	}
	for _, want := range []string{"certificate", "mutual TLS", "SRTP AES_CM_128_HMAC_SHA1_80", "Voice message delivered", "Play it with:  play "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "argon2") {
		t.Error("quickstart printed a PIN hash")
	}
	wav := regexp.MustCompile(`play (\S+\.wav)`).FindStringSubmatch(string(out))
	if wav == nil {
		t.Fatalf("no recording named:\n%s", out)
	}
	sox, err := exec.Command("soxi", "-D", wav[1]).Output()
	if err != nil {
		t.Fatalf("soxi %s: %v", wav[1], err)
	}
	f, _ := os.Open(wav[1])
	defer f.Close()
	pcm, err := media.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	// The caller speaks the "saved" prompt a breath after the tone.
	want := float64(len(voiced(voicemail.Prompt("saved"))))/media.SampleRate + 0.25
	if got := float64(len(pcm)) / media.SampleRate; math.Abs(got-want) > 0.6 {
		t.Errorf("recording lasts %.2f s (soxi: %s); want %.2f ± 0.6 s", got, strings.TrimSpace(string(sox)), want)
	}
	// A second run refuses to touch the directory it made.
	if out, err := exec.Command(openumBin, "--data", data, "quickstart").CombinedOutput(); err == nil || !strings.Contains(string(out), "already holds a directory") {
		t.Errorf("a second quickstart on the same directory: %v\n%s", err, out)
	}
}

// --keep-running leaves the server up and prints a baresip command that
// calls it as the test gateway: that call leaves a second message.
func TestQuickstartKeepRunningWithBaresip(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(openumBin, "quickstart", "--keep-running")
	cmd.Dir = dir
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var dial string
	for dial == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("quickstart --keep-running ended without a baresip command")
			}
			if strings.HasPrefix(strings.TrimSpace(line), "baresip -f ") {
				dial = strings.TrimSpace(line)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("no baresip command within a minute")
		}
	}
	go func() {
		for range lines {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := exec.CommandContext(ctx, "bash", "-c", dial)
	b.Dir = dir
	out, _ := b.CombinedOutput()
	if !strings.Contains(string(out), "SRTP is Enabled") {
		t.Fatalf("baresip did not call with SRTP:\n%s", out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "openum-data", "mail", delivery.MaildirName("alice@example.test"), "new", "*"))
		if len(files) == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages after the baresip call; want 2", len(files))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
