package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/openum/openum/internal/atomicfile"
	"github.com/openum/openum/internal/events"
)

// MaildirName is the name of an address's folder under Maildir.Dir. It is
// the address in ASCII lower case with every other byte, outside
// [a-z0-9.+_@-], written %XX (upper-case hex), '%' itself and a leading dot
// included. Percent-decoding gives the lower-cased address back, so two
// addresses share a folder only when they differ in ASCII case alone, which
// the directory never allows (addresses are unique ignoring case), and a
// name is never ".", "..", hidden, or holds a path separator. Ordinary
// addresses keep the folder earlier versions gave them. The empty address
// has no folder: MaildirName returns "" and Deliver refuses it.
func MaildirName(address string) string {
	var b strings.Builder
	for i := range len(address) {
		c := address[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if folderSafe(c) && (i > 0 || c != '.') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func folderSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte(".+_@-", c) >= 0
}

// legacyMaildirName is the folder earlier versions gave an address: lossy,
// so that a/b@x and a_b@x shared one. Migrate alone uses it, to find those
// folders.
func legacyMaildirName(address string) string {
	return strings.NewReplacer("/", "_", "\\", "_", "..", "_").Replace(strings.ToLower(address))
}

// Migrate moves the Maildir of each of addresses (the mailboxes of the
// directory) from the folder earlier versions named it to its MaildirName,
// with event 9303. It runs once at start, before any delivery. Where the
// old rule gave several mailboxes one folder, so that their messages may be
// mixed there, or where a mailbox's old and new folders both exist, whose a
// message is cannot be told: Migrate leaves the folder as it is and warns
// with event 9307, at each start until each of those mailboxes has a folder
// of its own. An error means a folder could not be moved.
func (d Maildir) Migrate(ctx context.Context, addresses []string, log *events.Log) error {
	claims := map[string][]string{} // folder -> the addresses it is the old or new folder of
	var moved []string              // old folders that are not their address's new one
	for _, a := range addresses {
		old, cur := legacyMaildirName(a), MaildirName(a)
		if a == "" || !filepath.IsLocal(old) {
			continue
		}
		claims[cur] = append(claims[cur], a)
		if old != cur {
			claims[old] = append(claims[old], a)
			moved = append(moved, old)
		}
	}
	slices.Sort(moved)
	for _, old := range slices.Compact(moved) {
		from := filepath.Join(d.Dir, old)
		if !isDir(from) {
			continue
		}
		owners := claims[old]
		if len(owners) == 1 && !isDir(d.box(owners[0])) {
			to := d.box(owners[0])
			if err := errors.Join(os.Rename(from, to), atomicfile.SyncDir(d.Dir)); err != nil {
				return fmt.Errorf("delivery: maildir: moving %s to %s: %w", from, to, err)
			}
			log.Emit(ctx, events.MaildirMigrated, "a mailbox's Maildir moved to its new folder name",
				slog.String("Mailbox", owners[0]), slog.String("From", from), slog.String("To", to))
			continue
		}
		if len(owners) > 1 && !slices.ContainsFunc(owners, func(a string) bool { return !isDir(d.box(a)) }) {
			continue // sorted out: every mailbox has its own folder
		}
		log.Emit(ctx, events.MaildirAmbiguous, "a Maildir folder may hold the messages of several mailboxes: left as it is, sort them out by hand",
			slog.Any("Mailboxes", owners), slog.String("Folder", from))
	}
	return nil
}

// box is the Maildir of an address.
func (d Maildir) box(address string) string { return filepath.Join(d.Dir, MaildirName(address)) }

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
