// Command openum is an open-source Unified Messaging server: it answers SIP
// calls from IP gateways and IP PBXs, takes voice messages and delivers them
// into mail, with the VoIP security model of Exchange 2007 SP1 UM.
package main

import (
	"fmt"
	"os"

	"github.com/openum/openum/internal/cli"
)

// version is the release this binary was built as: scripts/package stamps
// it (-ldflags "-X main.version=1.2.0"), a plain go build leaves "dev".
var version = "dev"

func main() {
	// Asked before the commands are built: an operator checking what a
	// package installed needs no data directory.
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("openum", version)
		return
	}
	cli.Version = version
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
