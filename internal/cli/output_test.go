package cli

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/openum/openum/internal/directory"
)

// A list printed one object at a time is what printJSON prints of the
// whole list, byte for byte: nested lists, empty lists, characters JSON
// escapes, and raw objects as the operations return them.
func TestPrintJSONListIsPrintJSON(t *testing.T) {
	boxes := []directory.Mailbox{
		{EmailAddress: "a@example.test", DisplayName: "A <&> \u2028", Extensions: directory.List[string]{"1", "2"}},
		{EmailAddress: "b@example.test"},
	}
	raws := make([]json.RawMessage, len(boxes))
	for i := range boxes {
		raws[i], _ = json.Marshal(boxes[i])
	}
	dp := directory.NewDialPlan("DP1")
	check := func(name string, objs any, stream func(*bytes.Buffer) error) {
		t.Helper()
		var want, got bytes.Buffer
		if err := (&app{out: &want}).printJSON(objs); err != nil {
			t.Fatal(err)
		}
		if err := stream(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: streamed\n%s\nwant\n%s", name, got.String(), want.String())
		}
	}
	check("mailboxes", boxes, func(b *bytes.Buffer) error { return printJSONList(b, boxes) })
	check("raw", raws, func(b *bytes.Buffer) error { return printJSONList(b, raws) })
	check("dial plan", []directory.DialPlan{dp}, func(b *bytes.Buffer) error { return printJSONList(b, []directory.DialPlan{dp}) })
	check("none", []directory.Mailbox{}, func(b *bytes.Buffer) error { return printJSONList[directory.Mailbox](b, nil) })
}
