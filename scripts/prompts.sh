#!/usr/bin/env bash
# Regenerates openum's default voice prompts (8 kHz, 16-bit, mono WAV) with
# espeak-ng and sox from Debian: apt-get install espeak-ng sox.
# sox -D (no dither) makes a run repeatable, so a rerun changes no file.
# internal/voicemail/prompts.go lists the subscriber-access names by group.
set -euo pipefail
out="$(dirname "$0")/../internal/voicemail/prompts"

# render NAME TEXT [SOX EFFECT...]
render() {
  local name=$1 text=$2 tmp
  shift 2
  tmp=$(mktemp --suffix=.wav)
  espeak-ng -v en-us -s 150 -w "$tmp" "$text"
  sox -D "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$out/$name.wav" "$@"
  rm -f "$tmp"
}

# say: a prompt played on its own, with espeak-ng's pauses kept.
say() { render "$1" "$2"; }

# part: a prompt that is played in a sequence with others (voicemail's
# concat puts its own short gap between them), so espeak-ng's leading and
# trailing silence (about 0.4 s) is cut off.
part() { render "$1" "$2" silence 1 0.005 0.02% reverse silence 1 0.005 0.02% reverse; }

# Call answering.
say greeting "The person you are calling is not available. Please leave a message after the tone."
say unavailable "Sorry, this number is not available. Goodbye."
say saved "Your message has been saved. Goodbye."
say notsaved "Sorry, your message could not be saved. Goodbye."
part mailbox-full "Sorry, the mailbox of the person you are calling is full, and cannot take a message."

# Transfer: 0 during the greeting puts the caller through to the operator;
# call back from the subscriber menu.
part transferring "Please hold while your call is transferred."
part operator-unavailable "Sorry, the operator could not be reached."
part to-call-back "To call the sender back,"
part call-failed "Sorry, the call could not be made."

# Logon. espeak-ng spells PIN in capitals letter by letter: write "pin".
part welcome "Welcome to voice mail."
part enter-extension "Please enter your extension, followed by the pound key."
part enter-pin "Please enter your pin, followed by the pound key."
part other-extension "To enter a different extension,"
part invalid-logon "That extension and pin combination is not valid."
part too-many-failures "Too many failed attempts."
part mailbox-locked "Your mailbox is locked. Please contact your administrator."

# PIN change.
part pin-expired "Your pin has expired."
part enter-new-pin "Please enter a new pin, followed by the pound key."
part reenter-new-pin "Please enter the new pin again, followed by the pound key."
part pins-differ "The pins do not match."
part pin-too-short "That pin is too short."
part pin-at-least "Your pin must have at least"
part digits "digits."
part pin-used-recently "That pin was used recently."
part pin-too-easy "That pin is too easy to guess."
part pin-is-extension "Your pin must not be your extension."
part pin-changed "Your pin has been changed."

# Mailbox summary.
part you-have "You have"
part and "and"
part no "no"
part new-message "new message"
part new-messages "new messages"
part saved-message "saved message"
part saved-messages "saved messages"
part no-messages "You have no messages."

# Menus: a title, then one choice per key, "<action> press <key>".
part press "press"
part star "star"
part pound "pound"
part main-menu "Main menu."
part to-listen "To listen to your messages,"
part to-personal-options "For personal options,"
part to-repeat "To hear these choices again,"
part to-leave "To leave,"
part to-next "For the next message,"
part to-delete "To delete this message,"
part to-save "To save this message,"
part to-replay "To hear this message again,"
part to-menu "For the main menu,"
part personal-options "Personal options."
part to-record-greeting "To record your greeting,"
part to-change-pin "To change your pin,"

# Playing messages.
part message-from "Message from"
part unknown-caller "an unknown caller,"
part received "received"
part message-deleted "Message deleted."
part message-saved "Message saved."
part end-of-messages "End of messages."

# Greeting.
part record-greeting "Record your greeting after the tone."
part when-finished "When you are finished,"
part to-keep-greeting "To keep this greeting,"
part to-record-again "To record it again,"
part greeting-saved "Your greeting has been saved."

# Anywhere.
part not-understood "Sorry, I did not understand."
part goodbye "Goodbye."

# Numbers: 0-19, the tens, hundred, thousand, and "oh" for 9:05.
for w in zero one two three four five six seven eight nine ten eleven twelve \
  thirteen fourteen fifteen sixteen seventeen eighteen nineteen; do
  part "$w" "$w"
done
for w in twenty thirty forty fifty sixty seventy eighty ninety hundred thousand oh; do
  part "$w" "$w"
done

# Times and dates.
part am "A.M."
part pm "P.M."
part noon "noon"
part midnight "midnight"
part at "at"
part on "on"
part today "today"
part yesterday "yesterday"
for w in sunday monday tuesday wednesday thursday friday saturday \
  january february march april may june july august september october \
  november december \
  first second third fourth fifth sixth seventh eighth ninth tenth eleventh \
  twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth \
  nineteenth twentieth twenty-first twenty-second twenty-third twenty-fourth \
  twenty-fifth twenty-sixth twenty-seventh twenty-eighth twenty-ninth thirtieth \
  thirty-first; do
  part "$w" "$w"
done
