package delivery

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
)

// VoiceMessage is a delivered voice message read back: what Compose wrote.
type VoiceMessage struct {
	Path   string // the file it was read from
	Header mail.Header
	Audio  []byte // the attachment: the recording, a WAV file
}

// ReadVoiceMessage parses a message Compose wrote, its headers and its
// audio attachment.
func ReadVoiceMessage(raw []byte) (*VoiceMessage, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("delivery: reading a voice message: %w", err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("delivery: reading a voice message: Content-Type: %w", err)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if err != nil {
			return nil, fmt.Errorf("delivery: the message has no audio attachment: %w", err)
		}
		if p.FileName() == "" {
			continue
		}
		audio, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		if err != nil {
			return nil, fmt.Errorf("delivery: the message's attachment %s: %w", p.FileName(), err)
		}
		return &VoiceMessage{Header: msg.Header, Audio: audio}, nil
	}
}

// FirstNew reads the first message (in name order) in the new/ folder of
// address's Maildir, one that no mail client has seen yet. It returns nil
// and no error when that folder holds no message.
func (d Maildir) FirstNew(address string) (*VoiceMessage, error) {
	files, err := filepath.Glob(filepath.Join(d.box(address), "new", "*"))
	if err != nil || len(files) == 0 {
		return nil, err
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	m, err := ReadVoiceMessage(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, files[0])
	}
	m.Path = files[0]
	return m, nil
}
