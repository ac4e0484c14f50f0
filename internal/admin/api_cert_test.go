package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openum/openum/internal/certs"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/events"
	"github.com/openum/openum/internal/ops"
	"github.com/openum/openum/internal/testpki"
)

// storeFiles lists the files of the fixture's certificate store.
func (f *liveFixture) storeFiles() []string {
	f.t.Helper()
	var files []string
	_ = filepath.WalkDir(filepath.Join(f.data, "certs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// The certificate store over the API: a readonly token reads it and
// exports a public certificate but changes nothing (403); an admin token
// imports a trusted CA and a PFX (its password in the body), the store
// holds them and 9108 names the token; no answer and no event holds a
// private key or the password, and a PFX export is refused for its key.
func TestAPICertificates(t *testing.T) {
	f := newLiveFixture(t)
	code, body := f.do(directory.RoleReadonly, "GET", "/api/v1/cert", nil)
	var personal []ops.CertView
	if code != 200 || json.Unmarshal(body, &personal) != nil || len(personal) != 1 || !personal[0].InUse || !personal[0].HasPrivateKey {
		t.Fatalf("GET cert: %d %s", code, body)
	}
	inUse := personal[0].Thumbprint
	for _, path := range []string{"/api/v1/cert/" + inUse, "/api/v1/cert/select", "/api/v1/cert?trusted=true"} {
		if code, body := f.do(directory.RoleReadonly, "GET", path, nil); code != 200 || !json.Valid(body) {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	code, body = f.do(directory.RoleReadonly, "POST", "/api/v1/cert/"+inUse+"/export", map[string]any{"format": "pem"})
	var exported ops.CertFile
	if code != 200 || json.Unmarshal(body, &exported) != nil || !strings.HasPrefix(string(exported.Data), "-----BEGIN CERTIFICATE-----") {
		t.Errorf("export pem: %d %s", code, body)
	}

	ca := testpki.NewRootCA(t, "Gateways CA")
	caPEM := string(testpki.PEM(t, nil, ca.Cert))
	other, err := certs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	made, err := other.NewSelfSigned(certs.SelfSignedOptions{FQDN: "um.localhost"})
	if err != nil {
		t.Fatal(err)
	}
	const pfxPassword = "pfx-pass-7781"
	pfx, err := other.Export(made.Thumbprint(), certs.FormatPFX, pfxPassword)
	if err != nil {
		t.Fatal(err)
	}
	f.secrets = append(f.secrets, pfxPassword)

	files := f.storeFiles()
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/cert/new-self-signed", nil},
		{"POST", "/api/v1/cert/request", map[string]any{"fqdn": "um.localhost"}},
		{"POST", "/api/v1/cert/import", map[string]any{"certificate": caPEM, "trusted": true, "ca": true}},
		{"DELETE", "/api/v1/cert/" + inUse + "?force=true", nil},
	} {
		code, body := f.do(directory.RoleReadonly, c.method, c.path, c.body)
		var r refusal
		if code != 403 || json.Unmarshal(body, &r) != nil || !strings.Contains(r.Error, "admin role") {
			t.Errorf("%s %s with a readonly token: %d %s", c.method, c.path, code, body)
		}
	}
	if got := f.storeFiles(); strings.Join(got, " ") != strings.Join(files, " ") {
		t.Errorf("readonly requests changed the store:\n%v\n%v", files, got)
	}

	// Before the PFX below, which may be preferred to it.
	if code, body := f.do(directory.RoleAdmin, "DELETE", "/api/v1/cert/"+inUse, nil); code != 400 || !strings.Contains(string(body), "in use") {
		t.Errorf("remove the certificate in use: %d %s", code, body)
	}
	code, body = f.do(directory.RoleAdmin, "POST", "/api/v1/cert/import", map[string]any{"certificate": caPEM, "trusted": true, "ca": true})
	var imported ops.CertImported
	if code != 200 || json.Unmarshal(body, &imported) != nil || len(imported.Added) != 1 || imported.Added[0].Trust != certs.TrustCA {
		t.Fatalf("import a trusted CA: %d %s", code, body)
	}
	code, body = f.do(directory.RoleAdmin, "POST", "/api/v1/cert/import", map[string]any{"certificate": base64.StdEncoding.EncodeToString(pfx), "password": pfxPassword})
	if code != 200 || json.Unmarshal(body, &imported) != nil || len(imported.Added) != 1 || !imported.Added[0].HasPrivateKey {
		t.Fatalf("import a PFX: %d %s", code, body)
	}
	if code, body := f.do(directory.RoleAdmin, "POST", "/api/v1/cert/import", map[string]any{"certificate": base64.StdEncoding.EncodeToString(pfx), "password": "wrong"}); code != 400 {
		t.Errorf("a PFX with a wrong password: %d %s", code, body)
	}
	c, err := certs.OpenStore(filepath.Join(f.data, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	contents, err := c.Load()
	if err != nil {
		t.Fatal(err)
	}
	if tr := contents.Find(certs.Thumbprint(ca.Cert)); tr == nil || tr.Location != certs.Trusted || tr.Trust != certs.TrustCA {
		t.Errorf("the store after the import: %+v", tr)
	}

	// A private key stays on the server.
	code, body = f.do(directory.RoleAdmin, "POST", "/api/v1/cert/"+inUse+"/export", map[string]any{"format": "pfx", "password": "x"})
	var r refusal
	if code != 400 || json.Unmarshal(body, &r) != nil || r.Field != "format" || !strings.Contains(r.Error, "private key is not exported over the admin API") {
		t.Errorf("export pfx: %d %s", code, body)
	}
	if code, body := f.do(directory.RoleAdmin, "GET", "/api/v1/cert/"+strings.Repeat("0", 40), nil); code != 404 {
		t.Errorf("get a certificate not there: %d %s", code, body)
	}

	records, err := events.Read(filepath.Join(f.data, "events.log"), events.Filter{ID: events.CertificateStoreChanged})
	if err != nil || len(records) != 2 {
		t.Fatalf("9108: %v %d", err, len(records))
	}
	for _, rec := range records {
		if rec.Attrs["User"] != "admin-token" || !strings.HasPrefix(rec.Attrs["Command"].(string), "admin API: cert import") {
			t.Errorf("9108: %v", rec.Attrs)
		}
	}
	f.checkNoSecrets(base64.StdEncoding.EncodeToString(pfx)[40:80])
}
