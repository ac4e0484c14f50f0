//go:build linux && (amd64 || arm64)

package media

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"
)

// batch is where a clock's reads land: recvmmsg fills up to batchSize
// datagrams in one system call, without waiting. The syscall package's
// Recvfrom would take a call and allocate a sender's address per packet.
type batch struct {
	hdrs  [batchSize]mmsghdr
	iovs  [batchSize]syscall.Iovec
	names [batchSize]syscall.RawSockaddrAny
	bufs  [batchSize][datagramSize]byte
}

// mmsghdr is Linux's struct mmsghdr on 64-bit platforms.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
	_   [4]byte
}

func newBatch() *batch {
	b := &batch{}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(datagramSize)
		b.hdrs[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.hdrs[i].hdr.Iov = &b.iovs[i]
		b.hdrs[i].hdr.Iovlen = 1
	}
	return b
}

// read reads what fd holds, up to batchSize datagrams, without waiting
// (syscall.EAGAIN when there is none), and returns how many it read.
func (b *batch) read(fd uintptr) (int, error) {
	for i := range b.hdrs {
		b.hdrs[i].hdr.Namelen = syscall.SizeofSockaddrAny // the kernel wrote the last sender's length
	}
	n, _, errno := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), batchSize, syscall.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// packet returns datagram i of the last read and its sender.
func (b *batch) packet(i int) ([]byte, netip.AddrPort) {
	data := b.bufs[i][:b.hdrs[i].len]
	switch sa := &b.names[i]; sa.Addr.Family {
	case syscall.AF_INET:
		a := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		return data, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), port(a.Port))
	case syscall.AF_INET6:
		a := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		return data, netip.AddrPortFrom(netip.AddrFrom16(a.Addr), port(a.Port))
	}
	return data, netip.AddrPort{}
}

// port reads a sockaddr's port, which is in network byte order.
func port(p uint16) uint16 {
	return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p))[:])
}
