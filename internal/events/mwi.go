package events

// Message waiting (SPEC UM-5): the NOTIFY message-summary the server sends
// to a gateway when a mailbox's count of new messages changes, in the
// range of the requests the server places (9500-9599).
const (
	MessageWaitingSent   EventID = 9510 // a gateway took a mailbox's message-waiting NOTIFY
	MessageWaitingFailed EventID = 9511 // a message-waiting NOTIFY reached no gateway: retried, or given up
)
