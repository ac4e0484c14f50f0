package cli

import (
	"fmt"

	"github.com/openum/openum/internal/certs"
)

// trustFlags reads --ca and --pinned, which qualify --trusted: the trust
// to import with, "" to decide by the certificate.
func trustFlags(trusted, ca, pinned bool) (certs.Trust, error) {
	switch {
	case (ca || pinned) && !trusted:
		return "", fmt.Errorf("--ca and --pinned say how a trusted certificate is trusted: add --trusted")
	case ca && pinned:
		return "", fmt.Errorf("--ca and --pinned exclude each other: a CA issues peer certificates, a pinned certificate is one peer's")
	case ca:
		return certs.TrustCA, nil
	case pinned:
		return certs.TrustPinned, nil
	}
	return "", nil
}

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
