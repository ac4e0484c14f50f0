package delivery

import (
	"fmt"
	"strings"

	"github.com/openum/openum/internal/directory"
)

// welcomeNotice tells the owner of a newly UM-enabled mailbox how to reach
// voice mail and the first PIN, which the first logon replaces.
func welcomeNotice(m directory.Mailbox, newPIN string) *Notice {
	return &Notice{Subject: "Your voice mail is ready", Body: fmt.Sprintf(`Your mailbox now has voice mail: callers who do not reach you can leave a message.

Your extension: %s
Your voice mail PIN is: %s

It has expired: when you first call voice mail and log on with it, you will
be asked to choose a new PIN. Delete this mail once you have.
`, strings.Join(m.Extensions, ", "), newPIN)}
}
