package pin

import (
	"errors"
	"strings"
	"testing"
)

var strict = Policy{MinLength: 6, HistoryCount: 5}

func TestCheckRules(t *testing.T) {
	ext := []string{"12345"}
	for _, tc := range []struct {
		pin, rule string
	}{
		{"48071", "at least 6 digits"},
		{"48a715", "digits only"},
		{"4807 15", "digits only"},
		{strings.Repeat("4", 25), "at most 24 digits"},
		{"123456", "ascending digits"},
		{"111111", "one digit repeated"},
		{"654321", "descending digits"},
		{"123459", "the mailbox extension"},
		{"912345", "the mailbox extension"},
		{"2345", "at least 6"},
	} {
		err := Check(strict, tc.pin, ext, nil)
		if err == nil || !strings.Contains(err.Error(), tc.rule) {
			t.Errorf("Check(%q) = %v; want an error about %q", tc.pin, err, tc.rule)
		}
		if err != nil && strings.Contains(err.Error(), tc.pin) {
			t.Errorf("Check(%q) error repeats the PIN: %v", tc.pin, err)
		}
	}
	if err := Check(strict, "480715", ext, nil); err != nil {
		t.Errorf("Check(480715) = %v; want nil", err)
	}
	lax := strict
	lax.AllowCommonPatterns = true
	if err := Check(lax, "123456", ext, nil); err != nil {
		t.Errorf("AllowCommonPatterns: Check(123456) = %v; want nil", err)
	}
}

func TestCheckHistory(t *testing.T) {
	var history []string
	for _, p := range []string{"480715", "730168", "592047"} {
		h, err := Hash(p)
		if err != nil {
			t.Fatal(err)
		}
		history = append([]string{h}, history...)
	}
	if err := Check(strict, "480715", nil, history); err == nil || !strings.Contains(err.Error(), "used recently") {
		t.Errorf("reusing a PIN in the history: %v", err)
	}
	// Only the last HistoryCount PINs count.
	if err := Check(Policy{MinLength: 6, HistoryCount: 2}, "480715", nil, history); err != nil {
		t.Errorf("a PIN older than the history: %v", err)
	}
}

func TestHashVerify(t *testing.T) {
	h, err := Hash("480715")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") || strings.Contains(h, "480715") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := Hash("480715")
	if h == h2 {
		t.Fatal("two hashes of one PIN are equal: no salt")
	}
	if !Verify(h, "480715") || Verify(h, "480716") {
		t.Fatal("Verify does not tell the right PIN from a wrong one")
	}
	for _, bad := range []string{"", "480715", "$argon2id$v=19$m=19456,t=2,p=1$$", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5", "$bcrypt$x"} {
		if Verify(bad, "480715") {
			t.Errorf("Verify accepted malformed hash %q", bad)
		}
	}
}

func TestGenerateSatisfiesPolicy(t *testing.T) {
	p := Policy{MinLength: 8, HistoryCount: 1}
	seen := map[string]bool{}
	for range 20 {
		pin, err := Generate(p, []string{"12345"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(pin) != 8 || Check(p, pin, []string{"12345"}, nil) != nil {
			t.Fatalf("generated PIN breaks the policy: %v", Check(p, pin, []string{"12345"}, nil))
		}
		seen[pin] = true
	}
	if len(seen) < 19 {
		t.Fatalf("only %d distinct PINs in 20", len(seen))
	}
}

func TestAssign(t *testing.T) {
	shown, hash, err := Assign(strict, "", []string{"12345"}, nil)
	if err != nil || shown == "" || !Verify(hash, shown) || Check(strict, shown, []string{"12345"}, nil) != nil {
		t.Fatalf("a random PIN: shown %q, %v; it must satisfy the policy and match its hash", shown, err)
	}
	shown, hash, err = Assign(strict, "284719", []string{"12345"}, []string{hash})
	if err != nil || shown != "" || !Verify(hash, "284719") {
		t.Fatalf("a given PIN: shown %q (must be empty), %v", shown, err)
	}
	if _, hash, err := Assign(strict, "284719", nil, []string{hash}); err == nil || hash != "" {
		t.Fatalf("a PIN used just before was accepted (hash %q)", hash)
	}
}

func TestCheckNamesTheRule(t *testing.T) {
	h, err := Hash("480715")
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]Rule{
		"48a715": RuleDigits, "4807": RuleMinLength, strings.Repeat("4", 25): RuleMaxLength,
		"111111": RuleCommonPattern, "123459": RuleExtension, "480715": RuleHistory,
	} {
		var re *RuleError
		if err := Check(strict, p, []string{"12345"}, []string{h}); !errors.As(err, &re) || re.Rule != want {
			t.Errorf("Check(%q) = %v; want rule %d", p, err, want)
		}
	}
}
