package media

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// A clock serves many streams from one goroutine that wakes every
// FrameDuration: it reads what each stream's socket holds, without
// waiting, and sends the frames of the streams that play. A goroutine per
// stream blocked on its socket costs a wake-up, a park and a second read
// per packet, and a ticker per playing stream a wake-up per frame; a clock
// pays one wake-up per tick for all its streams. The price is up to
// receiveEvery ticks of latency on what is received, which a recording's
// timeline and a key press do not notice.
type clock struct {
	mu      sync.Mutex // guards streams and running
	streams []*Stream
	running bool
	polled  []*Stream // a tick's copy of streams, reused
	ticks   int
	batch   *batch // where the clock's reads land, shared by its streams
}

// A stream is read every receiveEvery ticks (120 ms: six packets of a
// call, in one system call), its streams in turn, a sixth each tick; a
// playing stream's frames go every tick. A system call's own cost is most
// of a read's: reading every 60 ms cost a fifth more CPU a call
// (BenchmarkRecordedCalls).
const receiveEvery = 6

const (
	// batchSize is the most datagrams one read takes.
	batchSize = 8
	// datagramSize is the largest datagram read whole: an Ethernet MTU.
	datagramSize = 1500
	// maxPerTick bounds the packets a clock reads from one stream in a
	// tick, so that a flooded port does not hold up the others: 64 a
	// read, 533 a second, ten times a call's rate.
	maxPerTick = 64
)

// Totals counts, for the whole process and as they happen, the packets
// its streams accepted and the frames Play sent: a server's live rates (a
// stream's Stats reach the server's counters only when its call ends).
var Totals struct {
	Received atomic.Uint64
	Played   atomic.Uint64
}

var (
	clocks = sync.OnceValue(func() []*clock {
		cs := make([]*clock, runtime.GOMAXPROCS(0))
		for i := range cs {
			cs[i] = &clock{batch: newBatch()}
		}
		return cs
	})
	nextClock atomic.Uint32
)

// join puts s on one of the clocks, in turn, and starts that clock if it
// had stopped.
func join(s *Stream) {
	cs := clocks()
	c := cs[nextClock.Add(1)%uint32(len(cs))]
	s.clock = c
	c.mu.Lock()
	defer c.mu.Unlock()
	s.turn = len(c.streams) % receiveEvery
	c.streams = append(c.streams, s)
	if !c.running {
		c.running = true
		go c.run()
	}
}

// leave takes s off its clock; the clock may be in s's tick meanwhile.
func (c *clock) leave(s *Stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, t := range c.streams {
		if t == s {
			last := len(c.streams) - 1
			c.streams[i], c.streams[last] = c.streams[last], nil
			c.streams = c.streams[:last]
			return
		}
	}
}

// run ticks until the clock has no streams left, then stops (join starts
// it again), so that an idle server keeps no goroutine awake.
func (c *clock) run() {
	tick := time.NewTicker(FrameDuration)
	defer tick.Stop()
	for range tick.C {
		c.mu.Lock()
		if len(c.streams) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.polled = append(c.polled[:0], c.streams...)
		c.mu.Unlock()
		now := time.Now()
		c.ticks++
		received, played := 0, 0
		for _, s := range c.polled {
			if (c.ticks+s.turn)%receiveEvery == 0 {
				received += s.receive(c.batch, now)
			}
			played += s.pace(now)
		}
		clear(c.polled) // a closed stream is not kept until the next tick
		Totals.Received.Add(uint64(received))
		Totals.Played.Add(uint64(played))
	}
}
