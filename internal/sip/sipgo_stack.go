package sip

// A work-around for a cost of sipgo v1.7.3's, kept in this one file.
//
// sipgo runs every request on a goroutine of its own, which the runtime
// starts with a small stack (the average it has seen). An INVITE's or a
// BYE's handler outgrows it deep in the call (the directory's look-up,
// sipgo's writing of the response's Via), and the runtime's copy of the
// stack then walks every frame on it, decoding each function's tables:
// about 11 µs a request on the 2-core development machine, a tenth of a
// set-up's CPU (BenchmarkSippCallsOverMutualTLS's CPU profile). Growing
// the stack at the handler's entry, with five frames on it, costs 4 µs:
// 162–177 µs a set-up instead of 171–187 in eight runs of each,
// alternating. An ACK's handler stays within the stack it has, so the
// guard does not grow it there.

// handlerStack is what a handler's deepest call needs on top of the
// frames below it, with room: the runtime gives the goroutine the next
// power of two that holds it (8 KiB), for as long as the request's
// handler runs.
const handlerStack = 4 << 10

// growStack grows the calling goroutine's stack by handlerStack in one
// copy, now, while few frames are on it.
//
//go:noinline
func growStack() byte {
	var pad [handlerStack]byte
	return pad[stackIndex] // read, so that the compiler keeps pad
}

// stackIndex is a variable only so that pad's read is not a constant.
var stackIndex int
