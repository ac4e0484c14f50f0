package voicemail

import (
	"errors"
	"strconv"
	"time"

	"github.com/openum/openum/internal/media"
	"github.com/openum/openum/internal/pin"
)

// The word prompts numbers, digits and dates are built from (the file of
// each is prompts/<word>.wav). American English, as espeak-ng's en-us
// voice speaks it: 101 is "one hundred one".
var (
	smallNumbers = [20]string{"zero", "one", "two", "three", "four", "five", "six",
		"seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
		"fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tensNumbers = [10]string{2: "twenty", 3: "thirty", 4: "forty", 5: "fifty",
		6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}
	weekdayNames = [7]string{time.Sunday: "sunday", time.Monday: "monday",
		time.Tuesday: "tuesday", time.Wednesday: "wednesday", time.Thursday: "thursday",
		time.Friday: "friday", time.Saturday: "saturday"}
	monthNames = [13]string{time.January: "january", time.February: "february",
		time.March: "march", time.April: "april", time.May: "may", time.June: "june",
		time.July: "july", time.August: "august", time.September: "september",
		time.October: "october", time.November: "november", time.December: "december"}
	ordinalNames = [32]string{1: "first", "second", "third", "fourth", "fifth", "sixth",
		"seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth",
		"fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
		"twentieth", "twenty-first", "twenty-second", "twenty-third", "twenty-fourth",
		"twenty-fifth", "twenty-sixth", "twenty-seventh", "twenty-eighth", "twenty-ninth",
		"thirtieth", "thirty-first"}
)

// promptGap is the silence concat puts between two prompts: about the pause
// between words, since the prompts' own silence is cut off.
const promptGap = media.SampleRate / 10

// concat returns the PCM of the named prompts one after another, with
// promptGap between them. Every name must be a prompt (see prompts.go).
func concat(names ...string) []int16 {
	var pcm []int16
	for i, name := range names {
		if i > 0 {
			pcm = append(pcm, make([]int16, promptGap)...)
		}
		pcm = append(pcm, Prompt(name)...)
	}
	return pcm
}

// sayNumber says n in words: 1,234 is "one thousand two hundred thirty
// four". Counts and durations are never negative, so n < 0 is said as
// zero; from a million up, n is said digit by digit.
func sayNumber(n int) []string {
	switch {
	case n <= 0:
		return []string{smallNumbers[0]}
	case n >= 1_000_000:
		return sayDigits(strconv.Itoa(n))
	case n < 1000:
		return sayHundreds(n)
	}
	words := append(sayHundreds(n/1000), "thousand")
	if n%1000 > 0 {
		words = append(words, sayHundreds(n%1000)...)
	}
	return words
}

// sayHundreds says 1 <= n <= 999.
func sayHundreds(n int) []string {
	var words []string
	if n >= 100 {
		words = append(words, smallNumbers[n/100], "hundred")
		n %= 100
	}
	if n >= 20 {
		words = append(words, tensNumbers[n/10])
		n %= 10
	}
	if n > 0 {
		words = append(words, smallNumbers[n])
	}
	return words
}

// sayCount says a count and the noun that follows it: "no new messages",
// "one new message", "two new messages".
func sayCount(n int, singular, plural string) []string {
	switch n {
	case 0:
		return []string{PromptNo, plural}
	case 1:
		return []string{smallNumbers[1], singular}
	}
	return append(sayNumber(n), plural)
}

// saySummary is what a subscriber hears after logon: "You have two new
// messages and one saved message", with nothing said of zero saved
// messages, or "You have no messages".
func saySummary(newCount, savedCount int) []string {
	if newCount <= 0 && savedCount <= 0 {
		return []string{PromptNoMessages}
	}
	words := append([]string{PromptYouHave}, sayCount(newCount, PromptNewMessage, PromptNewMessages)...)
	if savedCount > 0 {
		words = append(words, PromptAnd)
		words = append(words, sayCount(savedCount, PromptSavedMessage, PromptSavedMessages)...)
	}
	return words
}

// sayDigits says the keys in s one by one: digits, "star" for * and
// "pound" for #. Anything else (+, -, spaces, letters) is not said, so a
// calling number can be given as received.
func sayDigits(s string) []string {
	var words []string
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			words = append(words, smallNumbers[r-'0'])
		case r == '*':
			words = append(words, PromptStar)
		case r == '#':
			words = append(words, PromptPound)
		}
	}
	return words
}

// sayChoice says one choice of a menu: "To delete this message, press
// seven." key is a keypad key: 0-9, * or #.
func sayChoice(action string, key rune) []string {
	return append([]string{action, PromptPress}, sayDigits(string(key))...)
}

// sayEnvelope says who left a message and when: "Message from four two
// five ..., received today at nine oh five A.M." from is the calling number
// as received; one without a digit (empty, "anonymous") is an unknown
// caller. Names are never said: they would need a speech engine.
func sayEnvelope(from string, received, now time.Time) []string {
	words := []string{PromptMessageFrom}
	if digits := sayDigits(from); len(digits) > 0 {
		words = append(words, digits...)
	} else {
		words = append(words, PromptUnknownCaller)
	}
	words = append(words, PromptReceived)
	return append(words, sayWhen(received, now)...)
}

// sayWhen says when t was, as heard at now, in now's time zone: "today at
// nine oh five A.M.", "yesterday at noon", "on tuesday march third at
// ...". The year is said only for a date of another year that is not in
// the six months before now (so December 20th heard on January 2nd needs
// none, but a date a year old, or in the future, does).
func sayWhen(t, now time.Time) []string {
	t = t.In(now.Location())
	var words []string
	switch {
	case sameDay(t, now):
		words = []string{"today"}
	case sameDay(t, now.AddDate(0, 0, -1)):
		words = []string{"yesterday"}
	default:
		words = []string{"on", weekdayNames[t.Weekday()], monthNames[t.Month()], ordinalNames[t.Day()]}
		recent := t.Before(now) && t.After(now.AddDate(0, -6, 0))
		if t.Year() != now.Year() && !recent {
			words = append(words, sayYear(t.Year())...)
		}
	}
	return append(append(words, "at"), sayTime(t)...)
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// sayTime says a time of day on a 12-hour clock: "nine oh five A.M.",
// "twelve thirty P.M.", "noon", "midnight".
func sayTime(t time.Time) []string {
	h, m := t.Hour(), t.Minute()
	switch {
	case h == 0 && m == 0:
		return []string{"midnight"}
	case h == 12 && m == 0:
		return []string{"noon"}
	}
	words := sayNumber((h+11)%12 + 1)
	switch {
	case m > 0 && m < 10:
		words = append(words, "oh", smallNumbers[m])
	case m >= 10:
		words = append(words, sayNumber(m)...)
	}
	if h < 12 {
		return append(words, "am")
	}
	return append(words, "pm")
}

// sayYear says a year as people do: "nineteen ninety nine", "two thousand
// five", "twenty twenty six", "nineteen oh five", "twenty one hundred".
func sayYear(y int) []string {
	switch {
	case y < 1000 || y > 9999 || (y >= 2000 && y < 2010):
		return sayNumber(y)
	case y%100 == 0:
		return append(sayNumber(y/100), "hundred")
	case y%100 < 10:
		return append(sayNumber(y/100), "oh", smallNumbers[y%100])
	}
	return append(sayNumber(y/100), sayNumber(y%100)...)
}

// sayPINRefusal says why a new PIN was refused, from the error pin.Check
// returned: "That PIN is too short. Your PIN must have at least six
// digits." minLength is the policy's MinLength. A PIN that is not digits,
// too long, or refused for a reason without a prompt is not understood.
func sayPINRefusal(err error, minLength int) []string {
	var broke *pin.RuleError
	if !errors.As(err, &broke) {
		return []string{PromptNotUnderstood}
	}
	switch broke.Rule {
	case pin.RuleMinLength:
		return append(append([]string{PromptPINTooShort, PromptPINAtLeast}, sayNumber(minLength)...), PromptDigits)
	case pin.RuleCommonPattern:
		return []string{PromptPINTooEasy}
	case pin.RuleExtension:
		return []string{PromptPINIsExtension}
	case pin.RuleHistory:
		return []string{PromptPINUsedRecently}
	}
	return []string{PromptNotUnderstood}
}
