package directory

import (
	"strings"
	"testing"

	"github.com/openum/openum/internal/pin"
)

func TestAssignPIN(t *testing.T) {
	s := sample(t)
	shown, err := s.AssignPIN("A@example.test", "", true)
	m, _ := s.Mailbox("a@example.test")
	if err != nil || shown == "" || !pin.Verify(m.PIN.Hash, shown) || !m.PINExpired {
		t.Fatalf("a random PIN: shown %q, %v; stored %+v", shown, err, m.PIN)
	}
	first := m.PIN.Hash
	if shown, err = s.AssignPIN("a@example.test", "284719", false); err != nil || shown != "" || !pin.Verify(m.PIN.Hash, "284719") || m.PINExpired {
		t.Fatalf("a given PIN: shown %q, %v", shown, err)
	}
	if len(m.PIN.History) != 1 || m.PIN.History[0] != first {
		t.Fatalf("the PIN replaced is not in the history: %v", m.PIN.History)
	}
	_, err = s.AssignPIN("a@example.test", "10001", false)
	if err == nil || !strings.Contains(err.Error(), "mailbox a@example.test:") || !strings.Contains(err.Error(), "(policy P1)") {
		t.Fatalf("a PIN the policy refuses: %v; want the mailbox and policy named", err)
	}
	if m.PIN.Hash == first || !pin.Verify(m.PIN.Hash, "284719") {
		t.Fatal("a refused PIN changed the stored one")
	}
}
