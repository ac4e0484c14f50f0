package ops

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/directory/sqlite"
	"github.com/openum/openum/internal/logon"
)

func openDir(t *testing.T) Env {
	t.Helper()
	dir, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "directory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	return Env{Directory: dir, Actor: directory.Actor{User: "tester", Command: "ops test"}}
}

func do(t *testing.T, env Env, r Request) any {
	t.Helper()
	out, err := Do(context.Background(), env, r)
	if err != nil {
		t.Fatalf("%s: %v", r.Command(), err)
	}
	return out
}

// A dial plan through every verb; a bad value names its parameter, and
// neither it nor an unknown parameter writes anything.
func TestDialPlanOperations(t *testing.T) {
	env, ctx := openDir(t), context.Background()
	dp := do(t, env, Request{Verb: New, Kind: directory.KindDialPlan, Name: "DP1", Params: Params{
		"number-of-digits-in-extension": {"5"}, "voip-security": {"Secured"}, "access-telephone-numbers": {"+1425", "+1426,+1427"},
	}}).(*directory.DialPlan)
	if dp.NumberOfDigitsInExtension != 5 || dp.VoIPSecurity != directory.Secured || len(dp.AccessTelephoneNumbers) != 3 {
		t.Errorf("new: %+v", dp)
	}
	before, _ := env.Directory.Audit(ctx)
	for _, tc := range []struct {
		params Params
		param  string
	}{
		{Params{"number-of-digits-in-extension": {"five"}}, "number-of-digits-in-extension"},
		{Params{"uri-type": {"Fax"}}, "uri-type"},
		{Params{"no-such-thing": {"1"}}, "no-such-thing"},
	} {
		_, err := Do(ctx, env, Request{Verb: Set, Kind: directory.KindDialPlan, Name: "DP1", Params: tc.params})
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || !strings.HasPrefix(err.Error(), "--"+tc.param+": ") {
			t.Errorf("set %v: %v, want a ParamError naming %s", tc.params, err, tc.param)
		}
	}
	_, err := Do(ctx, env, Request{Verb: Set, Kind: directory.KindDialPlan, Name: "DP1", Params: Params{"number-of-digits-in-extension": {"99"}}})
	var fe *directory.FieldError
	if !errors.As(err, &fe) || fe.Field != "NumberOfDigitsInExtension" {
		t.Errorf("set 99 digits: %v, want the directory's FieldError", err)
	}
	if after, _ := env.Directory.Audit(ctx); len(after) != len(before) {
		t.Errorf("refused changes wrote %d audit records", len(after)-len(before))
	}
	if _, err := Do(ctx, env, Request{Verb: New, Kind: directory.KindDialPlan, Name: "DP2"}); err == nil || !strings.Contains(err.Error(), "--number-of-digits-in-extension: is required") {
		t.Errorf("new without the required parameter: %v", err)
	}
	list := do(t, env, Request{Verb: List, Kind: directory.KindDialPlan}).([]directory.DialPlan)
	if len(list) != 1 {
		t.Errorf("list: %+v", list)
	}
	gone := do(t, env, Request{Verb: Remove, Kind: directory.KindDialPlan, Name: "dp1"}).(*Removal)
	if len(gone.Changes) != 1 || gone.Changes[0].Action != directory.Removed {
		t.Errorf("remove: %+v", gone)
	}
	if _, err := Do(ctx, env, Request{Verb: Get, Kind: directory.KindDialPlan, Name: "DP1"}); !errors.As(err, new(*directory.NotFoundError)) {
		t.Errorf("get after remove: %v", err)
	}
	if got := do(t, env, Request{Verb: List, Kind: directory.KindHuntGroup}); !reflect.DeepEqual(got, []directory.HuntGroup{}) {
		t.Errorf("an empty list is %#v, want an empty slice", got)
	}
	for _, r := range []Request{{Verb: Remove, Kind: directory.KindServer, Name: "x"}, {Verb: Get, Kind: "widget", Name: "x"}} {
		if _, err := Do(ctx, env, r); !errors.As(err, new(*UnsupportedError)) {
			t.Errorf("%s: %v", r.Command(), err)
		}
	}
}

// A mailbox enabled without a PIN gets one, shown once; unlock clears a
// lock-out.
func TestMailboxEnableAndUnlock(t *testing.T) {
	env, ctx := openDir(t), context.Background()
	do(t, env, Request{Verb: New, Kind: directory.KindDialPlan, Name: "DP1", Params: Params{"number-of-digits-in-extension": {"5"}}})
	do(t, env, Request{Verb: New, Kind: directory.KindMailboxPolicy, Name: "P1", Params: Params{"dialplan": {"DP1"}}})
	m := do(t, env, Request{Verb: New, Kind: directory.KindMailbox, Name: "a@example.test", Params: Params{"dialplan": {"DP1"}, "extension": {"12345"}}})
	shown, ok := m.(*WithPIN)
	if !ok || len(shown.PIN) < 6 || shown.UMMailboxPolicy != "P1" {
		t.Fatalf("enable: %#v", m)
	}
	if _, err := env.Directory.Update(ctx, env.Actor, func(s *directory.Snapshot) error {
		mb, _ := s.Mailbox("a@example.test")
		mb.LockedOut, mb.LogonFailures = true, 5
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := do(t, env, Request{Verb: Unlock, Kind: directory.KindMailbox, Name: "a@example.test"}).(*directory.Mailbox)
	if got.LockedOut || got.LogonFailures != 0 {
		t.Errorf("unlock: %+v", got)
	}
	if _, err := Do(ctx, env, Request{Verb: Unlock, Kind: directory.KindDialPlan, Name: "DP1"}); err == nil {
		t.Error("a dial plan was unlocked")
	}
}

func TestRole(t *testing.T) {
	for _, tc := range []struct {
		r    Request
		want directory.AdminRole
	}{
		{Request{Verb: List, Kind: directory.KindDialPlan}, directory.RoleReadonly},
		{Request{Verb: Get, Kind: directory.KindMailbox, Name: "x"}, directory.RoleReadonly},
		{Request{Verb: Set, Kind: directory.KindIPGateway, Name: "GW", Params: Params{"status": {"Disabled"}}}, directory.RoleOperator},
		{Request{Verb: Set, Kind: directory.KindIPGateway, Name: "GW", Params: Params{"status": {"Disabled"}, "address": {"x"}}}, directory.RoleAdmin},
		{Request{Verb: Set, Kind: directory.KindIPGateway, Name: "GW"}, directory.RoleAdmin},
		{Request{Verb: Set, Kind: directory.KindServer, Params: Params{"status": {"Disabled"}}}, directory.RoleAdmin},
		{Request{Verb: Unlock, Kind: directory.KindMailbox, Name: "x"}, directory.RoleOperator},
		{Request{Verb: New, Kind: directory.KindDialPlan, Name: "x"}, directory.RoleAdmin},
		{Request{Verb: Remove, Kind: directory.KindDialPlan, Name: "x"}, directory.RoleAdmin},
	} {
		if got := tc.r.Role(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.r.Command(), got, tc.want)
		}
	}
}

func TestCommandMasksThePIN(t *testing.T) {
	r := Request{Verb: New, Kind: directory.KindMailbox, Name: "a@example.test", Params: Params{"pin": {"918273"}, "dialplan": {"DP1"}}}
	if got, want := r.Command(), "mailbox enable a@example.test --dialplan DP1 --pin ******"; got != want {
		t.Errorf("Command() = %q, want %q", got, want)
	}
}

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		r            Request
		method, path string
	}{
		{Request{Verb: List, Kind: directory.KindDialPlan}, "GET", "/api/v1/dialplan"},
		{Request{Verb: Get, Kind: directory.KindMailbox, Name: "a b@x"}, "GET", "/api/v1/mailbox/a%20b@x"},
		{Request{Verb: Set, Kind: directory.KindServer}, "PATCH", "/api/v1/server"},
		{Request{Verb: Remove, Kind: directory.KindIPGateway, Name: "GW", Force: true}, "DELETE", "/api/v1/gateway/GW?force=1"},
		{Request{Verb: Unlock, Kind: directory.KindMailbox, Name: "a@x"}, "POST", "/api/v1/mailbox/a@x/unlock"},
	} {
		if m, p := tc.r.Route(); m != tc.method || p != tc.path {
			t.Errorf("%s: %s %s, want %s %s", tc.r.Command(), m, p, tc.method, tc.path)
		}
	}
}

func TestDecodeParams(t *testing.T) {
	p, err := DecodeParams([]byte(`{"number-of-digits-in-extension": 5, "allow-extensions": true, "access-telephone-numbers": ["+1", "+2"], "dialplans": [], "address": "gw"}`))
	want := Params{"number-of-digits-in-extension": {"5"}, "allow-extensions": {"true"}, "access-telephone-numbers": {"+1", "+2"}, "dialplans": {""}, "address": {"gw"}}
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Errorf("DecodeParams: %v %v", p, err)
	}
	for _, bad := range []string{`[1]`, `{"a": {"b": 1}}`, `{"a": null}`, `{"a": [[1]]}`, `{"a": 1} {}`, `{"a": 1`} {
		if _, err := DecodeParams([]byte(bad)); err == nil {
			t.Errorf("DecodeParams(%s) took it", bad)
		}
	}
}

// FuzzDecodeParams: the admin API's request bodies never panic the parser,
// and what it takes is made of strings only.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{`{"a": 1}`, `{"a": ["x", 2, false]}`, `{"a": []}`, ``, `{`, `{"a": null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodeParams(body)
		if err == nil && p == nil {
			t.Fatal("no error and no parameters")
		}
	})
}

// set-pin's defaults are Exchange's: a random PIN unless one is given or
// only an unlock is asked, expired when new unless told otherwise.
func TestPINChange(t *testing.T) {
	for _, tc := range []struct {
		p    Params
		want logon.PINChange
	}{
		{Params{}, logon.PINChange{Generate: true, Expired: true}},
		{Params{"pin": {"918273"}}, logon.PINChange{PIN: "918273", Expired: true}},
		{Params{"pin": {"918273"}, "expired": {"false"}}, logon.PINChange{PIN: "918273"}},
		{Params{"unlock": {"true"}}, logon.PINChange{Unlock: true}},
		{Params{"unlock": {"true"}, "generate": {"true"}}, logon.PINChange{Generate: true, Expired: true, Unlock: true}},
	} {
		if got, err := pinChange(SetPIN, tc.p); err != nil || got != tc.want {
			t.Errorf("set-pin %v: %+v %v, want %+v", tc.p, got, err, tc.want)
		}
	}
	if _, err := pinChange(SetPIN, Params{"pin": {"918273"}, "generate": {"true"}}); err == nil {
		t.Error("--pin and --generate together were taken")
	}
	var pe *ParamError
	if _, err := pinChange(SetPIN, Params{"unlock": {"yes please"}}); !errors.As(err, &pe) || pe.Param != "unlock" {
		t.Errorf("a bad unlock: %v", err)
	}
}
