package cli

import (
	"github.com/openum/openum/internal/certs"
)

// trustWords says in the import's output how a trusted certificate is trusted.
func trustWords(t certs.Trust) string {
	switch t {
	case certs.TrustCA:
		return " as a CA (it may issue peer certificates)"
	case certs.TrustPinned:
		return " as a pinned peer certificate (exactly this certificate, which issues none)"
	}
	return ""
}
