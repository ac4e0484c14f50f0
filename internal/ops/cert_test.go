package ops

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
)

// A certificate operation's command masks the password and leaves the
// certificate out; reads are readonly, changes admin; what a rule refuses
// is a Refusal, a PFX export over the API among them.
func TestCertRequestCommandRoleAndRefusals(t *testing.T) {
	r := CertRequest{Verb: Import, Params: Params{"certificate": {"-----BEGIN CERTIFICATE-----"}, "password": {"hunter2"}, "trusted": {"true"}}}
	if got := r.Command(); got != "cert import --password ****** --trusted true" {
		t.Errorf("Command: %q", got)
	}
	for v, want := range map[Verb]directory.AdminRole{List: directory.RoleReadonly, Get: directory.RoleReadonly, Select: directory.RoleReadonly,
		Export: directory.RoleReadonly, Import: directory.RoleAdmin, NewSelfSigned: directory.RoleAdmin, MakeRequest: directory.RoleAdmin, Remove: directory.RoleAdmin} {
		if got := (CertRequest{Verb: v}).Role(); got != want {
			t.Errorf("cert %s: role %s, want %s", v, got, want)
		}
	}
	env := openDir(t)
	do(t, env, Request{Verb: Set, Kind: directory.KindServer, Params: Params{"name": {"um.example.test"}}})
	store, err := certs.OpenStore(filepath.Join(t.TempDir(), "certs"))
	if err != nil {
		t.Fatal(err)
	}
	cenv := CertEnv{Store: store, Directory: env.Directory, Remote: true}
	ctx := context.Background()
	made, err := DoCert(ctx, cenv, CertRequest{Verb: NewSelfSigned, Params: Params{"fqdn": {"um.example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	tp := made.(*CertView).Thumbprint
	var refusal *Refusal
	var param *ParamError
	for _, c := range []struct {
		r     CertRequest
		param string
	}{
		{CertRequest{Verb: Export, Name: tp, Params: Params{"format": {"pfx"}, "password": {"x"}}}, "format"},
		{CertRequest{Verb: Import, Params: Params{"certificate": {"not base64!"}}}, "certificate"},
		{CertRequest{Verb: List, Params: Params{"colour": {"red"}}}, "colour"},
		{CertRequest{Verb: NewSelfSigned, Params: Params{"days": {"-3"}}}, "days"},
	} {
		_, err := DoCert(ctx, cenv, c.r)
		if !errors.As(err, &refusal) || !errors.As(err, &param) || param.Param != c.param {
			t.Errorf("cert %s %v: %v, want a refusal naming %s", c.r.Verb, c.r.Params, err, c.param)
		}
	}
	if _, err := DoCert(ctx, cenv, CertRequest{Verb: Remove, Name: tp}); !errors.As(err, &refusal) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("remove the certificate in use: %v", err)
	}
}
