package events

// Events of the calls the server places (SPEC DIAL-1..DIAL-4): openum's
// range 9500-9599.
const (
	DialRestricted EventID = 9500 // a call the server would place was refused by a dialing rule, restriction or budget
)
