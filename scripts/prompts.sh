#!/usr/bin/env bash
# Regenerates openum's default voice prompts (8 kHz, 16-bit, mono WAV) with
# espeak-ng and sox from Debian: apt-get install espeak-ng sox.
set -euo pipefail
out="$(dirname "$0")/../internal/voicemail/prompts"
say() {
  local name=$1 text=$2 tmp
  tmp=$(mktemp --suffix=.wav)
  espeak-ng -v en-us -s 150 -w "$tmp" "$text"
  sox "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$out/$name.wav"
  rm -f "$tmp"
}
say greeting "The person you are calling is not available. Please leave a message after the tone."
say unavailable "Sorry, this number is not available. Goodbye."
say saved "Your message has been saved. Goodbye."
say notsaved "Sorry, your message could not be saved. Goodbye."
