package voicemail

// The prompts of subscriber access (SPEC UM-3), by the name Prompt and
// concat take. scripts/prompts.sh makes one file per name with espeak-ng,
// with its silence cut off so that prompts can follow one another; concat
// puts a short gap between them. Numbers, digits, times and dates are never
// spoken by a speech engine at run time: phrases.go builds them from the
// word prompts (zero..nineteen, twenty..ninety, hundred, thousand, oh; am,
// pm, noon, midnight, today, yesterday, at, on; sunday..saturday;
// january..december; first..thirty-first) and from the names below.
//
// A menu is said as a title, then one choice per key:
// sayChoice(PromptToListen, '1') is "To listen to your messages, press
// one." So the keys stay in one table in code, and a site that moves a key
// records nothing again. A call that ends says PromptGoodbye last.
const (
	// Logon, in the order a caller hears them.
	PromptWelcome        = "welcome"         // Welcome to voice mail.
	PromptEnterExtension = "enter-extension" // Please enter your extension, followed by the pound key.
	PromptEnterPIN       = "enter-pin"       // Please enter your PIN, followed by the pound key.
	PromptOtherExtension = "other-extension" // To enter a different extension, (sayChoice with '*')
	// PromptInvalidLogon answers a wrong extension, a wrong PIN, a logon
	// from a source in cool-down and a locked mailbox reached by a typed
	// extension alike: nothing a caller hears tells which mailboxes exist,
	// which are locked, or whether a PIN was right.
	PromptInvalidLogon    = "invalid-logon"     // That extension and PIN combination is not valid.
	PromptTooManyFailures = "too-many-failures" // Too many failed attempts.
	// PromptMailboxLocked is said only when the mailbox was found by the
	// calling number, where skipping the extension step has already told
	// the caller that the mailbox exists, and then before any PIN is asked
	// for (said after a PIN, it would tell a right PIN from a wrong one and
	// make the lock-out an oracle). After a typed extension, a locked
	// mailbox sounds like a wrong PIN: PromptInvalidLogon.
	PromptMailboxLocked = "mailbox-locked" // Your mailbox is locked. Please contact your administrator.

	// PIN change, after logon with an expired PIN or from personal
	// options; sayPINRefusal gives the reason a new PIN is refused.
	PromptPINExpired      = "pin-expired"       // Your PIN has expired.
	PromptEnterNewPIN     = "enter-new-pin"     // Please enter a new PIN, followed by the pound key.
	PromptReenterNewPIN   = "reenter-new-pin"   // Please enter the new PIN again, followed by the pound key.
	PromptPINsDiffer      = "pins-differ"       // The PINs do not match.
	PromptPINTooShort     = "pin-too-short"     // That PIN is too short.
	PromptPINAtLeast      = "pin-at-least"      // Your PIN must have at least (a number)
	PromptDigits          = "digits"            // digits.
	PromptPINUsedRecently = "pin-used-recently" // That PIN was used recently.
	PromptPINTooEasy      = "pin-too-easy"      // That PIN is too easy to guess.
	PromptPINIsExtension  = "pin-is-extension"  // Your PIN must not be your extension.
	PromptPINChanged      = "pin-changed"       // Your PIN has been changed.

	// The mailbox summary after logon; saySummary builds it.
	PromptYouHave       = "you-have"       // You have
	PromptAnd           = "and"            // and
	PromptNo            = "no"             // no (a count of zero)
	PromptNewMessage    = "new-message"    // new message
	PromptNewMessages   = "new-messages"   // new messages
	PromptSavedMessage  = "saved-message"  // saved message
	PromptSavedMessages = "saved-messages" // saved messages
	PromptNoMessages    = "no-messages"    // You have no messages.

	// Menus: a title, then sayChoice(action, key) for each key.
	PromptPress = "press" // press
	PromptStar  = "star"  // star (the * key)
	PromptPound = "pound" // pound (the # key)

	PromptMainMenu          = "main-menu"           // Main menu.
	PromptToListen          = "to-listen"           // To listen to your messages,
	PromptToPersonalOptions = "to-personal-options" // For personal options,
	PromptToRepeat          = "to-repeat"           // To hear these choices again,
	PromptToLeave           = "to-leave"            // To leave,

	// While a message plays (after its envelope, sayEnvelope).
	PromptToNext   = "to-next"   // For the next message,
	PromptToDelete = "to-delete" // To delete this message,
	PromptToSave   = "to-save"   // To save this message,
	PromptToReplay = "to-replay" // To hear this message again,
	PromptToMenu   = "to-menu"   // For the main menu,

	PromptMessageFrom    = "message-from"    // Message from
	PromptUnknownCaller  = "unknown-caller"  // an unknown caller,
	PromptReceived       = "received"        // received
	PromptMessageDeleted = "message-deleted" // Message deleted.
	PromptMessageSaved   = "message-saved"   // Message saved.
	PromptEndOfMessages  = "end-of-messages" // End of messages.

	// Personal options and the greeting; beep() is the tone.
	PromptPersonalOptions  = "personal-options"   // Personal options.
	PromptToRecordGreeting = "to-record-greeting" // To record your greeting,
	PromptToChangePIN      = "to-change-pin"      // To change your PIN,
	PromptRecordGreeting   = "record-greeting"    // Record your greeting after the tone.
	PromptWhenFinished     = "when-finished"      // When you are finished, (press pound)
	PromptToKeepGreeting   = "to-keep-greeting"   // To keep this greeting,
	PromptToRecordAgain    = "to-record-again"    // To record it again,
	PromptGreetingSaved    = "greeting-saved"     // Your greeting has been saved.

	// Call answering, when the store's quota for the mailbox is reached:
	// the caller hears it, then PromptGoodbye, and no recording starts.
	PromptMailboxFull = "mailbox-full" // Sorry, the mailbox of the person you are calling is full, and cannot take a message.

	// Transfers (transfer.go): 0 during a mailbox's greeting puts the
	// caller through to the dial plan's operator; call back, from the
	// message menu, to a message's caller.
	PromptTransferring        = "transferring"         // Please hold while your call is transferred.
	PromptOperatorUnavailable = "operator-unavailable" // Sorry, the operator could not be reached.
	PromptToCallBack          = "to-call-back"         // To call the sender back,
	PromptCallFailed          = "call-failed"          // Sorry, the call could not be made.

	// Anywhere: input that makes no sense, and the end of every call.
	PromptNotUnderstood = "not-understood" // Sorry, I did not understand.
	PromptGoodbye       = "goodbye"        // Goodbye.
)
