//go:build !(linux && (amd64 || arm64))

package media

import (
	"net/netip"
	"syscall"
)

// batch is where a clock's reads land: here one recvfrom a datagram.
type batch struct {
	bufs  [batchSize][datagramSize]byte
	lens  [batchSize]int
	froms [batchSize]netip.AddrPort
}

func newBatch() *batch { return &batch{} }

// read reads what fd holds, up to batchSize datagrams, without waiting
// (syscall.EAGAIN when there is none), and returns how many it read.
func (b *batch) read(fd uintptr) (int, error) {
	for i := range b.bufs {
		n, from, err := syscall.Recvfrom(int(fd), b.bufs[i][:], syscall.MSG_DONTWAIT)
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		b.lens[i] = n
		switch a := from.(type) {
		case *syscall.SockaddrInet4:
			b.froms[i] = netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
		case *syscall.SockaddrInet6:
			b.froms[i] = netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
		}
	}
	return batchSize, nil
}

// packet returns datagram i of the last read and its sender.
func (b *batch) packet(i int) ([]byte, netip.AddrPort) { return b.bufs[i][:b.lens[i]], b.froms[i] }
