package voicemail

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openum/openum/internal/pin"
)

// words joins prompt names for a readable failure message.
func words(names []string) string { return strings.Join(names, " ") }

// said is a whole number and the words said for it.
type said struct {
	n    int
	want string
}

// checkSaid checks what say, the function called name, says for each n.
func checkSaid(t *testing.T, name string, say func(int) []string, cases []said) {
	t.Helper()
	for _, tc := range cases {
		if got := words(say(tc.n)); got != tc.want {
			t.Errorf("%s(%d) = %q, want %q", name, tc.n, got, tc.want)
		}
	}
}

func TestSayNumber(t *testing.T) {
	checkSaid(t, "sayNumber", sayNumber, []said{
		{-3, "zero"},
		{0, "zero"},
		{1, "one"},
		{7, "seven"},
		{10, "ten"},
		{11, "eleven"},
		{19, "nineteen"},
		{20, "twenty"},
		{21, "twenty one"},
		{45, "forty five"},
		{99, "ninety nine"},
		{100, "one hundred"},
		{101, "one hundred one"},
		{110, "one hundred ten"},
		{115, "one hundred fifteen"},
		{999, "nine hundred ninety nine"},
		{1000, "one thousand"},
		{1001, "one thousand one"},
		{1100, "one thousand one hundred"},
		{1234, "one thousand two hundred thirty four"},
		{9999, "nine thousand nine hundred ninety nine"},
		{20000, "twenty thousand"},
		{999999, "nine hundred ninety nine thousand nine hundred ninety nine"},
		{1000000, "one zero zero zero zero zero zero"},
	})
}

func TestSayCount(t *testing.T) {
	checkSaid(t, "sayCount", func(n int) []string { return sayCount(n, PromptNewMessage, PromptNewMessages) }, []said{
		{0, "no new-messages"},
		{1, "one new-message"},
		{2, "two new-messages"},
		{21, "twenty one new-messages"},
		{100, "one hundred new-messages"},
	})
}

func TestSaySummary(t *testing.T) {
	for _, tc := range []struct {
		newCount, savedCount int
		want                 string
	}{
		{0, 0, "no-messages"},
		{2, 0, "you-have two new-messages"},
		{1, 1, "you-have one new-message and one saved-message"},
		{0, 3, "you-have no new-messages and three saved-messages"},
		{11, 20, "you-have eleven new-messages and twenty saved-messages"},
	} {
		if got := words(saySummary(tc.newCount, tc.savedCount)); got != tc.want {
			t.Errorf("saySummary(%d, %d) = %q, want %q", tc.newCount, tc.savedCount, got, tc.want)
		}
	}
}

func TestSayDigits(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"0123456789", "zero one two three four five six seven eight nine"},
		{"+1 (425) 555-0100", "one four two five five five five zero one zero zero"},
		{"*#", "star pound"},
		{"anonymous", ""},
	} {
		if got := words(sayDigits(tc.in)); got != tc.want {
			t.Errorf("sayDigits(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSayChoice(t *testing.T) {
	for _, tc := range []struct {
		action string
		key    rune
		want   string
	}{
		{PromptToListen, '1', "to-listen press one"},
		{PromptToDelete, '7', "to-delete press seven"},
		{PromptToRepeat, '*', "to-repeat press star"},
		{PromptToLeave, '#', "to-leave press pound"},
	} {
		if got := words(sayChoice(tc.action, tc.key)); got != tc.want {
			t.Errorf("sayChoice(%s, %q) = %q, want %q", tc.action, tc.key, got, tc.want)
		}
	}
}

func TestSayWhen(t *testing.T) {
	zone := time.FixedZone("UTC-5", -5*3600)
	at := func(y int, mo time.Month, d, h, mi int) time.Time { return time.Date(y, mo, d, h, mi, 0, 0, zone) }
	now := at(2026, time.March, 5, 15, 0) // a Thursday
	newYear := at(2026, time.January, 1, 10, 0)
	for _, tc := range []struct {
		name   string
		t, now time.Time
		want   string
	}{
		{"morning", at(2026, time.March, 5, 9, 5), now, "today at nine oh five am"},
		{"on the hour", at(2026, time.March, 5, 9, 0), now, "today at nine am"},
		{"midnight", at(2026, time.March, 5, 0, 0), now, "today at midnight"},
		{"after midnight", at(2026, time.March, 5, 0, 1), now, "today at twelve oh one am"},
		{"noon", at(2026, time.March, 5, 12, 0), now, "today at noon"},
		{"after noon", at(2026, time.March, 5, 12, 30), now, "today at twelve thirty pm"},
		{"evening", at(2026, time.March, 5, 23, 59), now, "today at eleven fifty nine pm"},
		{"ten past one", at(2026, time.March, 5, 13, 10), now, "today at one ten pm"},
		{"yesterday", at(2026, time.March, 4, 18, 45), now, "yesterday at six forty five pm"},
		{"this week", at(2026, time.March, 3, 8, 15), now, "on tuesday march third at eight fifteen am"},
		{"leap day", at(2024, time.February, 29, 7, 0), now,
			"on thursday february twenty-ninth twenty twenty four at seven am"},
		{"new year's eve", at(2025, time.December, 31, 23, 30), newYear, "yesterday at eleven thirty pm"},
		{"last december", at(2025, time.December, 20, 11, 0), newYear, "on saturday december twentieth at eleven am"},
		{"a year ago", at(2025, time.March, 1, 16, 20), now,
			"on saturday march first twenty twenty five at four twenty pm"},
		{"in the future", at(2027, time.January, 1, 0, 0), now, "on friday january first twenty twenty seven at midnight"},
		// 02:00 UTC on March 5th is 9 PM on March 4th in now's zone.
		{"other zone", time.Date(2026, time.March, 5, 2, 0, 0, 0, time.UTC), now, "yesterday at nine pm"},
	} {
		if got := words(sayWhen(tc.t, tc.now)); got != tc.want {
			t.Errorf("%s: sayWhen(%v, %v) = %q, want %q", tc.name, tc.t, tc.now, got, tc.want)
		}
	}
}

func TestSayYear(t *testing.T) {
	checkSaid(t, "sayYear", sayYear, []said{
		{1905, "nineteen oh five"},
		{1999, "nineteen ninety nine"},
		{2000, "two thousand"},
		{2005, "two thousand five"},
		{2010, "twenty ten"},
		{2026, "twenty twenty six"},
		{2100, "twenty one hundred"},
		{999, "nine hundred ninety nine"},
	})
}

func TestSayEnvelope(t *testing.T) {
	now := time.Date(2026, time.March, 5, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ from, want string }{
		{"+4255", "message-from four two five five received today at two pm"},
		{"", "message-from unknown-caller received today at two pm"},
		{"anonymous", "message-from unknown-caller received today at two pm"},
	} {
		if got := words(sayEnvelope(tc.from, now.Add(-time.Hour), now)); got != tc.want {
			t.Errorf("sayEnvelope(%q) = %q, want %q", tc.from, got, tc.want)
		}
	}
}

// TestSayPINRefusal checks that each rule pin.Check enforces has its
// spoken reason, using the errors pin.Check itself returns.
func TestSayPINRefusal(t *testing.T) {
	hash, err := pin.Hash("482913")
	if err != nil {
		t.Fatal(err)
	}
	policy := pin.Policy{MinLength: 6, HistoryCount: 5}
	for _, tc := range []struct {
		pin  string
		want string
	}{
		{"48291", "pin-too-short pin-at-least six digits"},
		{"123456", "pin-too-easy"},
		{"775100", "pin-is-extension"},
		{"482913", "pin-used-recently"},
		{"48*913", "not-understood"},
		{strings.Repeat("4829", 7), "not-understood"},
	} {
		err := pin.Check(policy, tc.pin, []string{"5100"}, []string{hash})
		if err == nil {
			t.Fatalf("pin.Check(%q) accepted it", tc.pin)
		}
		if got := words(sayPINRefusal(err, policy.MinLength)); got != tc.want {
			t.Errorf("sayPINRefusal(%v) = %q, want %q", err, got, tc.want)
		}
	}
	if got := words(sayPINRefusal(errors.New("store: down"), 6)); got != "not-understood" {
		t.Errorf("sayPINRefusal(other error) = %q", got)
	}
}

func TestConcat(t *testing.T) {
	one, two := Prompt("one"), Prompt("two")
	got := concat("one", "two", "one")
	want := slices.Concat(one, make([]int16, promptGap), two, make([]int16, promptGap), one)
	if !slices.Equal(got, want) {
		t.Fatalf("concat(one, two, one) has %d samples, want %d: the prompts in order with a %d-sample gap",
			len(got), len(want), promptGap)
	}
	if got := concat(); len(got) != 0 {
		t.Errorf("concat() has %d samples", len(got))
	}
}
