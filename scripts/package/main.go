// Command package builds openum's Debian package with nfpm: the binary
// (static, -trimpath, version stamped), the hardened systemd unit, the
// maintainer scripts that create and, on purge, remove the openum user, and
// the documentation. Run it from the repository root:
//
//	go run ./scripts/package -version 1.2.0 -out dist/
//
// It prints the path of the .deb it wrote.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// debVersion is Debian's upstream version: a digit first, then
// alphanumerics and . + ~ (no hyphen, as the package has no revision).
var debVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

// here is this program's directory, where the unit and the maintainer
// scripts live, relative to the repository root.
const here = "scripts/package"

func main() {
	version := flag.String("version", "", "package and binary version, Debian style (1.2.0, 1.2.0~rc1)")
	out := flag.String("out", "dist", "directory the .deb is written to")
	arch := flag.String("arch", runtime.GOARCH, "target architecture, Go's name (amd64, arm64, ...)")
	flag.Parse()
	path, err := build(*version, *out, *arch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "package: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// build writes openum_VERSION_ARCH.deb into out and returns its path.
func build(version, out, arch string) (string, error) {
	if !debVersion.MatchString(version) {
		return "", fmt.Errorf("-version %q: want a Debian upstream version, a digit first, then letters, digits and . + ~ (e.g. 1.2.0)", version)
	}
	if _, err := os.Stat(filepath.Join(here, "openum.service")); err != nil {
		return "", errors.New("run from the repository root (go run ./scripts/package)")
	}
	tmp, err := os.MkdirTemp("", "openum-package-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "openum")
	if err := goBuild(bin, version, arch); err != nil {
		return "", err
	}
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		return "", err
	}
	info := nfpm.WithDefaults(packageInfo(version, arch, bin, docs))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(out, deb.Default.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("deb: %w", err)
	}
	return path, f.Close()
}

// goBuild builds a static openum for linux/arch, its version stamped: no
// cgo, so the package needs no libc of a given version.
func goBuild(bin, version, arch string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", bin, "./cmd/openum")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/openum: %w", err)
	}
	return nil
}

// packageInfo is the package: what it holds, where, owned by root.
func packageInfo(version, arch, bin string, docs []string) *nfpm.Info {
	file := func(src, dst string, mode os.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode}}
	}
	contents := files.Contents{
		file(bin, "/usr/bin/openum", 0o755),
		file(filepath.Join(here, "openum.service"), "/usr/lib/systemd/system/openum.service", 0o644),
		// The README's links (docs/guide.md, ...) still lead somewhere.
		file("README.md", "/usr/share/doc/openum/README.md", 0o644),
	}
	for _, d := range docs {
		contents = append(contents, file(d, "/usr/share/doc/openum/docs/"+filepath.Base(d), 0o644))
	}
	return &nfpm.Info{
		Name:          "openum",
		Arch:          arch,
		Version:       version,
		VersionSchema: "none", // Debian's own syntax, checked above
		Section:       "net",
		Priority:      "optional",
		Maintainer:    "openum developers <openum@example.org>",
		Homepage:      "https://github.com/openum/openum",
		Description: "Unified Messaging server: SIP voice mail with mutual TLS and SRTP\n" +
			"openum answers SIP calls from IP gateways and IP PBXs, records voice\n" +
			"messages and delivers them to a Maildir or over SMTP, with the VoIP\n" +
			"security model of Exchange Server 2007 SP1 Unified Messaging.",
		Overridables: nfpm.Overridables{
			Depends:  []string{"adduser"},
			Contents: contents,
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(here, "postinst"),
				PreRemove:   filepath.Join(here, "prerm"),
				PostRemove:  filepath.Join(here, "postrm"),
			},
		},
	}
}
