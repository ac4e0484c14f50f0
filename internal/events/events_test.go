package events

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openum/openum/internal/peertest"
)

func TestEmitAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "events.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l.Emit(ctx, TLSCertificateInUse, "certificate in use", slog.String("Thumbprint", "AB"))
	l.Emit(ctx, CertificateExpiring, "certificate expires soon", slog.Int("DaysLeft", 29))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	peertest.CheckPerm(t, path, 0o600)

	all, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("read %d records, want 2: %+v", len(all), all)
	}
	if all[0].EventID != TLSCertificateInUse || all[0].Level != "Information" || all[0].Message != "certificate in use" || all[0].Attrs["Thumbprint"] != "AB" {
		t.Errorf("first record = %+v", all[0])
	}
	if all[1].Level != "Warning" || all[1].Attrs["DaysLeft"] != float64(29) {
		t.Errorf("second record = %+v", all[1])
	}
	if time.Since(all[0].Time) > time.Minute {
		t.Errorf("time %v is not now", all[0].Time)
	}

	only, err := Read(path, Filter{ID: CertificateExpiring})
	if err != nil || len(only) != 1 || only[0].EventID != CertificateExpiring {
		t.Errorf("Read(ID filter) = %+v, %v", only, err)
	}
	none, err := Read(path, Filter{Since: time.Now().Add(time.Hour)})
	if err != nil || len(none) != 0 {
		t.Errorf("Read(Since future) = %+v, %v", none, err)
	}
}

func TestReadSkipsTornLineAndMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.log")
	if recs, err := Read(path, Filter{}); err != nil || recs != nil {
		t.Fatalf("missing file: %v, %v", recs, err)
	}
	data := `{"time":"2026-01-02T03:04:05Z","level":"ERROR","msg":"x","EventID":9103}
{"time":"2026-01-02T03:04:06Z","level":"INFO","msg":"no id"}
{"time":"2026-01-02T03:04:07Z","level":"INFO","msg":"y","Event`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, err := Read(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].EventID != CertificateExpired || recs[0].Level != "Error" {
		t.Errorf("records = %+v", recs)
	}
}

func TestNilLogDiscards(t *testing.T) {
	var l *Log
	l.Emit(context.Background(), TLSCertificateInUse, "ignored")
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

func TestLevels(t *testing.T) {
	for id, want := range map[EventID]slog.Level{
		TLSCertificateInUse: slog.LevelInfo,
		CertificateExpiring: slog.LevelWarn,
		CertificateExpired:  slog.LevelError,
		GatewayTLSFailed:    slog.LevelError,
	} {
		if got := id.Level(); got != want {
			t.Errorf("%d.Level() = %v, want %v", id, got, want)
		}
	}
}
