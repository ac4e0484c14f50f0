package events

// Transfer events (SPEC DIAL-3): a caller put through to the dial plan's
// operator, or to a message's caller from the subscriber menu, by a blind
// transfer (REFER), in openum's range 9500-9599.
const (
	TransferDone   EventID = 9520 // a transfer's NOTIFY sipfrag said 2xx: the caller is put through, openum hangs up
	TransferFailed EventID = 9521 // a transfer failed (refused, a sipfrag >= 300, no final NOTIFY in time): the caller is back
)
