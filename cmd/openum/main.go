// Command openum is an open-source Unified Messaging server: it answers SIP
// calls from IP gateways and IP PBXs, takes voice messages and delivers them
// into mail, with the VoIP security model of Exchange 2007 SP1 UM.
package main

import (
	"os"

	"github.com/openum/openum/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
