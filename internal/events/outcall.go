package events

// Outbound events (SPEC PEER-3, DIAL-3): the calls and requests the server
// places through gateways, in openum's range 9500-9599 (dialing.go has the
// dialing rules' and restrictions' events of that range).
const (
	OutcallGatewayFailed EventID = 9501 // a gateway could not carry an outcall: the next one is tried
	OutcallPlaced        EventID = 9502 // the outcome of an outcall: answered, refused, or no gateway
	GatewayAnswersAgain  EventID = 9503 // a gateway that did not answer OPTIONS answers again
)
