// Package baresip writes configuration folders for baresip, the SIP
// phone the quickstart tells the administrator to call openum with and the
// end-to-end tests call it with: over TLS, G.711 with or without SRTP,
// saying a WAV file.
package baresip

import (
	"fmt"
	"os"
	"path/filepath"
)

// Config is one baresip configuration.
type Config struct {
	Listen      string // sip_listen, host:port; TLS listens on the next port
	Certificate string // sip_certificate: its own certificate and key, PEM
	CAFile      string // sip_cafile: the certificates it trusts for the server
	AudioSource string // the WAV file it says on every call
	Account     string // the one line of its accounts file
	Extra       string // more configuration lines, added at the end
}

// Write writes c as the folder dir (config and accounts, 0600), which
// `baresip -f dir` reads.
func Write(dir string, c Config) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("baresip: %w", err)
	}
	config := fmt.Sprintf(`sip_listen %s
net_interface 127.0.0.1
sip_certificate %s
sip_cafile %s
audio_player alsa,null
audio_source aufile,%s
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module alsa.so
module aufile.so
module srtp.so
module_app account.so
module_app menu.so
`, c.Listen, c.Certificate, c.CAFile, c.AudioSource)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config+c.Extra), 0o600); err != nil {
		return fmt.Errorf("baresip: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(c.Account+"\n"), 0o600); err != nil {
		return fmt.Errorf("baresip: %w", err)
	}
	return nil
}
