package cli

import (
	"context"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/logon"
)

// failLogons: logon DIALPLAN EXTENSION DIGITS COUNT makes COUNT logons by
// phone with DIGITS, one call each, through the logon service a server
// runs, against $OPENUM_DATA's directory: to count failures or lock a
// mailbox out as callers would.
func failLogons(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 || neg {
		ts.Fatalf("usage: logon DIALPLAN EXTENSION DIGITS COUNT")
	}
	n, err := strconv.Atoi(args[3])
	ts.Check(err)
	ctx := context.Background()
	dir, err := sqlite.Open(ctx, filepath.Join(ts.Getenv("OPENUM_DATA"), "directory.db"))
	ts.Check(err)
	defer dir.Close()
	svc, err := logon.New(dir, nil, nil, logon.Settings{FailureTime: time.Millisecond})
	ts.Check(err)
	for i := range n {
		res, err := svc.Begin(args[0], logon.Source{Gateway: "gw1", CallID: "call-" + strconv.Itoa(i)}).Logon(ctx, args[1], args[2])
		ts.Check(err)
		ts.Logf("logon %d: %v", i+1, res.Outcome)
	}
}
