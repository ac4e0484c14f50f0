package events

// Signalling events (SPEC SEC-1..SEC-5, PEER-1, PEER-4): openum's range
// 9200-9299. A refusal says here why; the peer is told nothing it could use.
const (
	Listening             EventID = 9200 // the server listens on a port
	PeerRefused           EventID = 9202 // a source that is not a trusted gateway was refused
	CallRefusedSecurity   EventID = 9203 // a call broke its dial plan's VoIP security mode (403)
	SRTPNegotiationFailed EventID = 9204 // the offer's media did not match the dial plan's mode (488)
	CallRefusedOverload   EventID = 9205 // a call was refused: server disabled, draining or full (503)
	BanAdded              EventID = 9206 // a source refused repeatedly was cut off for a while
	BanExpired            EventID = 9207 // a ban ended
	NoHuntGroup           EventID = 9208 // no hunt group or served dial plan for the called number (404)
	TLSHandshakeFailed    EventID = 9209 // a TLS handshake failed for a reason other than the certificate
	CallAdmitted          EventID = 9210 // a call was admitted to a dial plan
	DirectoryReloadFailed EventID = 9211 // reading the directory failed; the running configuration stays
	ServerStopping        EventID = 9212 // the server drains: no new calls, current ones finish
	MalformedRequest      EventID = 9213 // a request was refused as malformed or oversized (400)
	BannedSourceRefused   EventID = 9214 // summary: a banned source's refusals in the last minute or more
	MessageIncomplete     EventID = 9215 // a message did not arrive whole in time: its connection was closed
	CallRedirected        EventID = 9216 // a full or draining server sent a new call to another with 302
)

// Voice mail events (SPEC UM-1, UM-2): openum's range 9300-9399.
const (
	MessageRecorded     EventID = 9300 // a voice message was recorded and spooled
	MessageDelivered    EventID = 9301 // a voice message was delivered
	CallEnded           EventID = 9302 // a call was hung up because its media stopped
	MaildirMigrated     EventID = 9303 // a mailbox's Maildir moved to its new folder name
	RecordingFailed     EventID = 9304 // a recording could not be written or kept: the message is lost
	CallRefusedDiskFull EventID = 9305 // too little free disk space for a message: refused before answer (503)
	SpoolQuarantined    EventID = 9306 // a spooled message could not be read: moved to quarantine
	MaildirAmbiguous    EventID = 9307 // a Maildir folder may hold several mailboxes' messages
	MailboxFull         EventID = 9308 // a mailbox reached its quota: the caller heard "the mailbox is full"
	MailTakenOver       EventID = 9309 // a dead server's undelivered mail was taken over, its leases expired
	MailCopyDropped     EventID = 9310 // a spooled mail another server delivered was removed, not sent again
)
