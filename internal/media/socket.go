package media

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
)

// socket is a call's UDP port: a socket left blocking, which keeps it out
// of Go's poller, and only ever read and written without waiting
// (MSG_DONTWAIT) by the clocks. A socket in the poller has epoll wake the
// process for each datagram that arrives, though nobody waits to read it:
// a third of a recording server's CPU (bench/load.sh's profile).
type socket struct {
	file   *os.File        // owns the descriptor: closing waits for a read or write in progress
	raw    syscall.RawConn // file's, for the reads and writes
	local  netip.AddrPort
	family int // syscall.AF_INET or AF_INET6: how to address what it sends
}

// listenSocket opens a UDP socket on addr. An IPv4 address gets an IPv4
// socket; any other, an IPv6 socket that also takes IPv4 (as
// net.ListenUDP's "udp" does for a wildcard address).
func listenSocket(addr netip.AddrPort) (*socket, error) {
	ip := addr.Addr().Unmap()
	family := syscall.AF_INET6
	var sa syscall.Sockaddr = &syscall.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	switch {
	case ip.IsUnspecified():
		sa = &syscall.SockaddrInet6{Port: int(addr.Port())} // 0.0.0.0 too: both families
	case ip.Is4():
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("media: UDP socket: %w", err)
	}
	if family == syscall.AF_INET6 {
		err = syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0)
	}
	if err == nil {
		err = syscall.Bind(fd, sa)
	}
	var bound syscall.Sockaddr
	if err == nil {
		bound, err = syscall.Getsockname(fd)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("media: UDP port %v: %w", addr, err)
	}
	s := &socket{file: os.NewFile(uintptr(fd), "udp"), family: family}
	switch b := bound.(type) {
	case *syscall.SockaddrInet4:
		s.local = netip.AddrPortFrom(netip.AddrFrom4(b.Addr), uint16(b.Port))
	case *syscall.SockaddrInet6:
		s.local = netip.AddrPortFrom(netip.AddrFrom16(b.Addr), uint16(b.Port))
	}
	if s.raw, err = s.file.SyscallConn(); err != nil {
		s.file.Close()
		return nil, fmt.Errorf("media: %w", err)
	}
	return s, nil
}

// Close closes the socket.
func (s *socket) Close() error { return s.file.Close() }
