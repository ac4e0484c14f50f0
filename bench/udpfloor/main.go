// Command udpfloor measures what the kernel's loopback UDP costs a process
// by itself, the floor under openum's media path (PERF-1): N sockets, each
// carrying 50 packets of 172 bytes a second (G.711 in SRTP, 20 ms), with
// nothing done to them but the system calls.
//
//	go build -o /tmp/udpfloor ./bench/udpfloor
//	/tmp/udpfloor recv 2000 &   # N sockets, a goroutine each reading and dropping, until killed
//	/tmp/udpfloor send 2000     # N sockets sending to them for 30 s
//	kill %1
//
// Each prints its own CPU time (getrusage) per packet and per call-second
// (50 packets) over its measuring window: recv for 20 s after 3 s of
// warm-up, send over its 30 s.
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	basePort  = 40000
	perSecond = 50  // packets a second a call
	size      = 172 // bytes: 160 of G.711, RTP header, SRTP tag
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: udpfloor recv|send N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 || n > 20000 {
		fmt.Fprintf(os.Stderr, "udpfloor: N must be a number of sockets from 1 to 20000, not %q\n", os.Args[2])
		os.Exit(2)
	}
	switch os.Args[1] {
	case "recv":
		recv(n)
	case "send":
		send(n)
	default:
		fmt.Fprintf(os.Stderr, "udpfloor: the mode is recv or send, not %q\n", os.Args[1])
		os.Exit(2)
	}
}

func recv(n int) {
	var packets atomic.Int64
	for i := range n {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: basePort + i})
		if err != nil {
			fmt.Fprintln(os.Stderr, "udpfloor:", err)
			os.Exit(1)
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
				packets.Add(1)
			}
		}()
	}
	time.Sleep(3 * time.Second)
	report("recv", n, 20*time.Second, &packets)
	select {} // reading on until killed: a sender still running must not meet closed ports
}

func send(n int) {
	conns := make([]*net.UDPConn, n)
	for i := range conns {
		c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: basePort + i})
		if err != nil {
			fmt.Fprintln(os.Stderr, "udpfloor:", err)
			os.Exit(1)
		}
		conns[i] = c
	}
	var packets atomic.Int64
	go func() {
		payload := make([]byte, size)
		tick := time.NewTicker(time.Second / perSecond)
		for range tick.C {
			for _, c := range conns {
				if _, err := c.Write(payload); err != nil {
					fmt.Fprintln(os.Stderr, "udpfloor:", err)
					os.Exit(1)
				}
				packets.Add(1)
			}
		}
	}()
	report("send", n, 30*time.Second, &packets)
}

// report measures this process's CPU over window while packets counts.
func report(mode string, n int, window time.Duration, packets *atomic.Int64) {
	cpu0, p0, t0 := cpuTime(), packets.Load(), time.Now()
	time.Sleep(window)
	cpu, p, elapsed := cpuTime()-cpu0, float64(packets.Load()-p0), time.Since(t0)
	perPacket := cpu.Seconds() * 1e6 / p
	fmt.Printf("%s: %d sockets, %.0f packets/s, %.2f cores, %.2f µs a packet, %.0f µs a call-second (%d packets)\n",
		mode, n, p/elapsed.Seconds(), cpu.Seconds()/elapsed.Seconds(), perPacket, perPacket*perSecond, perSecond)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
