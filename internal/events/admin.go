package events

// Administration events (SPEC OPS-3): the admin API's listener and its
// credentials, openum's range 9600-9699.
const (
	AdminAuthFailed EventID = 9600 // a request to the admin API was refused: no, a wrong or an unknown token
	AdminListening  EventID = 9601 // the admin API listens on an address
	// AdminRequestFailed is a request that failed inside the server (the
	// store, the disk), not a refusal: the client got a bare 500.
	AdminRequestFailed EventID = 9602
)
