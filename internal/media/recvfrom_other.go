//go:build !(linux && (amd64 || arm64))

package media

import (
	"net/netip"
	"syscall"
)

// recvfrom reads one datagram from fd into buf without waiting
// (syscall.EAGAIN when there is none) and returns its length and sender.
func recvfrom(fd uintptr, buf []byte, _ *syscall.RawSockaddrAny) (int, netip.AddrPort, error) {
	n, from, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
	switch a := from.(type) {
	case *syscall.SockaddrInet4:
		return n, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), err
	case *syscall.SockaddrInet6:
		return n, netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)), err
	}
	return n, netip.AddrPort{}, err
}
