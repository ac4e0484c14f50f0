package events

// Subscriber access events (SPEC UM-3): openum's range 9400-9499. The
// Exchange IDs of logons (1012, 1013, 1036) are in events.go.
const (
	LogonSourceCoolDown   EventID = 9401 // a source failed against many mailboxes: its logons are refused for a while
	SubscriberAccessFault EventID = 9402 // the directory or message store failed during a subscriber's call
)
