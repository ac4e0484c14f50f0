//go:build linux && (amd64 || arm64)

package media

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"
)

// recvfrom reads one datagram from fd into buf without waiting
// (syscall.EAGAIN when there is none) and returns its length and sender.
// syscall.Recvfrom would allocate the sender's address each packet; this
// reads it into sa, which the caller keeps.
func recvfrom(fd uintptr, buf []byte, sa *syscall.RawSockaddrAny) (int, netip.AddrPort, error) {
	size := uint32(syscall.SizeofSockaddrAny)
	n, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(&size)))
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	switch sa.Addr.Family {
	case syscall.AF_INET:
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return int(n), netip.AddrPortFrom(netip.AddrFrom4(a.Addr), port(a.Port)), nil
	case syscall.AF_INET6:
		a := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		return int(n), netip.AddrPortFrom(netip.AddrFrom16(a.Addr), port(a.Port)), nil
	}
	return int(n), netip.AddrPort{}, nil
}

// port reads a sockaddr's port, which is in network byte order.
func port(p uint16) uint16 {
	return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p))[:])
}
