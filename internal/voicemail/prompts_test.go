package voicemail

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/pin"
)

// catalogue returns the names prompts.go declares.
func catalogue(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "prompts.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			name, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
		return true
	})
	if len(names) < 50 {
		t.Fatalf("prompts.go declares %d prompt names; the parse missed them", len(names))
	}
	return names
}

// spoken returns every prompt name the phrase builder can produce, by
// running it over all the inputs that lead to different words.
func spoken() map[string]bool {
	said := map[string]bool{}
	say := func(names []string) {
		for _, n := range names {
			said[n] = true
		}
	}
	for n := -1; n <= 20000; n++ {
		say(sayNumber(n))
		say(sayCount(n, PromptNewMessage, PromptNewMessages))
	}
	say(sayNumber(1_000_000))
	for y := 900; y <= 2300; y++ {
		say(sayYear(y))
	}
	now := time.Date(2026, time.March, 5, 15, 0, 0, 0, time.UTC)
	for m := range 24 * 60 {
		say(sayWhen(now.Truncate(24*time.Hour).Add(time.Duration(m)*time.Minute), now))
	}
	for d := -800; d <= 400; d++ {
		say(sayWhen(now.AddDate(0, 0, d), now))
	}
	say(saySummary(0, 0))
	say(saySummary(1, 2))
	say(saySummary(2, 1))
	say(sayEnvelope("", now, now))
	for _, key := range "0123456789*#" {
		say(sayChoice(PromptToMenu, key))
	}
	for r := pin.RuleDigits; r <= pin.RuleHistory; r++ {
		say(sayPINRefusal(&pin.RuleError{Rule: r}, 6))
	}
	say(sayPINRefusal(nil, 6))
	return said
}

// TestEveryPhraseHasAPrompt checks that no name prompts.go declares or
// the builder produces lacks its file, so no phrase is ever silent (Prompt
// would panic on it in a call).
func TestEveryPhraseHasAPrompt(t *testing.T) {
	names := spoken()
	for _, n := range catalogue(t) {
		names[n] = true
	}
	for name := range names {
		if _, err := fs.Stat(promptFiles, "prompts/"+name+".wav"); err != nil {
			t.Errorf("prompt %q has no file prompts/%s.wav (add it to scripts/prompts.sh): %v", name, name, err)
		}
	}
}

// promptBudget bounds all the embedded prompts together: they are in the
// binary.
const promptBudget = 3 << 20

// TestPromptsAreSpeech checks each embedded prompt: 8 kHz mono 16-bit (as
// ReadWAV demands), long enough to be a word, loud enough to be speech
// rather than silence, and all of them within promptBudget.
func TestPromptsAreSpeech(t *testing.T) {
	files, err := fs.Glob(promptFiles, "prompts/*.wav")
	if err != nil || len(files) == 0 {
		t.Fatalf("no embedded prompts: %v", err)
	}
	total := 0
	for _, file := range files {
		f, err := promptFiles.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		pcm, err := media.ReadWAV(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		total += 44 + 2*len(pcm)
		// A word from espeak-ng lasts 0.3 s or more; its RMS is in the
		// thousands, a silent or near-silent file's well under 300.
		if seconds := float64(len(pcm)) / media.SampleRate; seconds < 0.2 {
			t.Errorf("%s lasts %.2f s: too short to be a word", file, seconds)
		}
		if r := rms(pcm); r < 1000 {
			t.Errorf("%s has an RMS of %.0f: silence, not speech", file, r)
		}
	}
	if total > promptBudget {
		t.Errorf("the %d prompts take %d bytes, more than the budget of %d", len(files), total, promptBudget)
	}
}

// A prompt is decoded once and shared by the calls that play it: each call
// held its own 84 KB copy of the greeting while it played. Its capacity is
// its length, so a caller appending to it copies and never writes into it.
func TestPromptIsDecodedOnceAndShared(t *testing.T) {
	a, b := Prompt("greeting"), Prompt("greeting")
	if &a[0] != &b[0] || cap(a) != len(a) {
		t.Fatalf("two decodings of the greeting, or room to grow (cap %d, len %d)", cap(a), len(a))
	}
	if allocs := testing.AllocsPerRun(10, func() { Prompt("greeting") }); allocs != 0 {
		t.Errorf("%v allocations a greeting; want 0", allocs)
	}
}

// rms is the root mean square of a frame, a measure of its loudness.
func rms(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(pcm), 1)))
}
