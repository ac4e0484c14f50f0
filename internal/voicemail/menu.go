package voicemail

import "slices"

// The keys of subscriber access (SPEC UM-3), in one table: a site that
// moves a key changes it here and nowhere else, and records no prompt
// again, since every choice is said as "<action>, press <key>"
// (sayChoice). docs/guide.md lists the same keys.

// action is what a key does in a menu.
type action int

// The actions of the menus. The zero action is a key the menu does not know.
const (
	actNone action = iota
	// Main menu.
	actListen
	actPersonalOptions
	actRepeat
	actLeave
	// While a message plays.
	actNext
	actDelete
	actSave
	actReplay
	actMainMenu
	actCallBack // only when allowed: see accessCall.messageChoices
	// Personal options.
	actRecordGreeting
	actChangePIN
	// After a greeting was recorded.
	actKeepGreeting
	actRecordAgain
)

// choice is one key of a menu, the action it takes, and the prompt that
// says the action.
type choice struct {
	key    byte
	action action
	prompt string
}

// menu is a menu's title prompt and its choices, in the order they are
// said.
type menu struct {
	title   string // "" for a menu said without a title
	choices []choice
}

// The menus.
var (
	mainMenu = menu{title: PromptMainMenu, choices: []choice{
		{'1', actListen, PromptToListen},
		{'3', actPersonalOptions, PromptToPersonalOptions},
		{'*', actRepeat, PromptToRepeat},
		{'#', actLeave, PromptToLeave},
	}}
	// messageMenu is said after a message's audio, and its keys work
	// from the start of the envelope on.
	messageMenu = menu{choices: []choice{
		{'#', actNext, PromptToNext},
		{'7', actDelete, PromptToDelete},
		{'9', actSave, PromptToSave},
		{'1', actReplay, PromptToReplay},
		{'*', actMainMenu, PromptToMenu},
	}}
	// callBackChoice joins messageMenu when the subscriber may call the
	// message's caller back (accessCall.messageChoices).
	callBackChoice = choice{'5', actCallBack, PromptToCallBack}
	personalMenu   = menu{title: PromptPersonalOptions, choices: []choice{
		{'1', actRecordGreeting, PromptToRecordGreeting},
		{'2', actChangePIN, PromptToChangePIN},
		{'*', actMainMenu, PromptToMenu},
	}}
	greetingMenu = menu{choices: []choice{
		{'#', actKeepGreeting, PromptToKeepGreeting},
		{'*', actRecordAgain, PromptToRecordAgain},
	}}
)

// The keys of entries (extension, PIN) and of recording.
const (
	// keyEnd ends an extension, a PIN and a greeting's recording.
	keyEnd = '#'
	// keyOtherExtension, at the PIN prompt of a caller whose calling
	// number is their extension, asks for another extension instead.
	keyOtherExtension = '*'
)

// maxEntry is the most keys an extension or PIN entry takes: longer is
// input that makes no sense (a stuck key, a fax tone decoder).
const maxEntry = 24

// action returns what key does in the menu, actNone for a key it does not
// have.
func (mn menu) action(key byte) action {
	for _, c := range mn.choices {
		if c.key == key {
			return c.action
		}
	}
	return actNone
}

// with returns the menu with c said last.
func (mn menu) with(c choice) menu {
	mn.choices = append(slices.Clip(mn.choices), c)
	return mn
}

// say returns the menu as it is spoken: its title, then each choice.
func (mn menu) say() []string {
	var words []string
	if mn.title != "" {
		words = append(words, mn.title)
	}
	for _, c := range mn.choices {
		words = append(words, sayChoice(c.prompt, rune(c.key))...)
	}
	return words
}
