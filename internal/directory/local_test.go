package directory

import (
	"errors"
	"testing"
)

func TestLocalServer(t *testing.T) {
	host := HostName()
	servers := func(names ...string) *Snapshot {
		s := &Snapshot{}
		for _, n := range names {
			if err := s.AddServer(NewServer(n)); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		s       *Snapshot
		fqdn    string
		want    string // "" for an error
		missing bool   // the error is a *NotFoundError
	}{
		{"named", servers("a.test", "b.test"), "B.test", "b.test", false},
		{"named, missing", servers("a.test"), "b.test", "", true},
		{"the only one", servers("a.test"), "", "a.test", false},
		{"several, one is this host", servers("a.test", host), "", host, false},
		{"several, none is this host", servers("a.test", "b.test"), "", "", false},
		{"none", servers(), "", "", true},
	} {
		sv, err := tc.s.LocalServer(tc.fqdn)
		var nf *NotFoundError
		switch {
		case tc.want != "" && (err != nil || sv.Name != tc.want):
			t.Errorf("%s: LocalServer(%q) = %v, %v; want %s", tc.name, tc.fqdn, sv, err, tc.want)
		case tc.want == "" && err == nil:
			t.Errorf("%s: LocalServer(%q) = %s; want an error", tc.name, tc.fqdn, sv.Name)
		case tc.want == "" && errors.As(err, &nf) != tc.missing:
			t.Errorf("%s: LocalServer(%q) error %v; NotFoundError %v", tc.name, tc.fqdn, err, tc.missing)
		}
	}
}

func TestAddLocalServer(t *testing.T) {
	s := &Snapshot{}
	sv, err := s.AddLocalServer("")
	if err != nil || sv.Name != HostName() || len(s.Servers) != 1 {
		t.Fatalf("first run: %v, %v; servers %v", sv, err, s.Servers)
	}
	if sv, err = s.AddLocalServer("um2.example.test"); err != nil || sv.Name != "um2.example.test" || len(s.Servers) != 2 {
		t.Fatalf("a new --fqdn: %v, %v", sv, err)
	}
	if _, err := (&Snapshot{Servers: []Server{NewServer("a.test"), NewServer("b.test")}}).AddLocalServer(""); err == nil {
		t.Fatal("several servers, none this host's: a record was made instead of asking which")
	}
}
