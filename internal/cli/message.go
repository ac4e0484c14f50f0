package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/openum/openum/internal/atomicfile"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/msgstore"
)

// messageColumns are the JSON keys message list shows.
var messageColumns = []string{"ID", "ReceivedAt", "CallerNumber", "CallerName", "Duration", "State"}

func (a *app) messageCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "message", Short: "Voice messages in the message store: list, show, export, remove, import"}
	cmd.AddCommand(a.messageListCommand(), a.messageGetCommand(), a.messageExportCommand(),
		a.messageRemoveCommand(), a.messageImportCommand(), a.messagePlayOnPhoneCommand())
	return cmd
}

func (a *app) messageListCommand() *cobra.Command {
	var mailbox, state string
	cmd := &cobra.Command{
		Use:   "list --mailbox EMAIL [--state new|saved|deleted]",
		Short: "List a mailbox's voice messages, oldest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var want msgstore.State
			if state != "" {
				var err error
				if want, err = directory.ParseEnum("--state", state, msgstore.States); err != nil {
					return err
				}
			}
			s, err := a.messages(cmd.Context())
			if err != nil {
				return err
			}
			list, err := s.List(cmd.Context(), mailbox, want)
			if err != nil {
				return err
			}
			return printList(a, list, messageColumns)
		},
	}
	cmd.Flags().StringVar(&mailbox, "mailbox", "", "the mailbox's email address (required)")
	cmd.Flags().StringVar(&state, "state", "", "only the messages in this state: new, saved or deleted")
	_ = cmd.MarkFlagRequired("mailbox")
	return cmd
}

// message reads the ID argument and returns that message.
func (a *app) message(cmd *cobra.Command, arg string) (msgstore.Store, *msgstore.Message, error) {
	id, err := msgstore.ParseID(arg)
	if err != nil {
		return nil, nil, err
	}
	s, err := a.messages(cmd.Context())
	if err != nil {
		return nil, nil, err
	}
	m, err := s.Get(cmd.Context(), id)
	return s, m, err
}

func (a *app) messageGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a voice message: caller, time, duration, state and its history (not the audio: see export)",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, m, err := a.message(cmd, args[0])
			if err != nil {
				return err
			}
			return a.printOne(m)
		},
	}
}

func (a *app) messageExportCommand() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "export ID --out FILE.wav",
		Short: "Write a voice message's audio to a WAV file (mode 0600)",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, m, err := a.message(cmd, args[0])
			if err != nil {
				return err
			}
			if _, err := os.Lstat(out); err == nil && !force {
				return fmt.Errorf("--out %s already exists (use --force to replace it)", out)
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("--out: %w", err)
			}
			wav, err := s.Audio(cmd.Context(), m.ID)
			if err != nil {
				return err
			}
			// Written aside and renamed: the file is all of the message or
			// absent, never part of it. A voice message is private: 0600.
			if err := atomicfile.WriteFile(out, wav, 0o600); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			if a.json {
				return a.printJSON(map[string]any{"ID": m.ID, "File": out, "Bytes": len(wav)})
			}
			fmt.Fprintf(a.out, "exported message %d to %s (%d bytes, %s)\n", m.ID, out, len(wav), time.Duration(m.Duration).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the WAV file to write (required)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the file if it exists")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// messageRemoveCommand marks a message deleted, as Exchange moves a deleted
// item to Deleted Items: it leaves the mailbox's quota at once, can still
// be exported, and is purged for good after its policy's
// DeletedMessageRetention by the running server.
func (a *app) messageRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Delete a voice message (purged after the mailbox policy's DeletedMessageRetention)",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, m, err := a.message(cmd, args[0])
			if err != nil {
				return err
			}
			m, err = s.SetState(cmd.Context(), a.actor(), m.ID, msgstore.Deleted, time.Now())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(m)
			}
			snap, err := a.snapshot(cmd)
			if err != nil {
				return err
			}
			days := msgstore.Retention(snap)(m.Mailbox) / (24 * time.Hour)
			fmt.Fprintf(a.out, "deleted message %d of %s; it is purged %d days after %s\n", m.ID, m.Mailbox, days, m.StateChanged.Local().Format(time.DateTime))
			return nil
		},
	}
}

// messageImportCommand stores a WAV file as a new message, for an
// administrator moving voice mail from another system into openum.
func (a *app) messageImportCommand() *cobra.Command {
	var m msgstore.Message
	var received string
	cmd := &cobra.Command{
		Use:   "import --mailbox EMAIL --caller NUMBER FILE.wav",
		Short: "Store a WAV file (8 kHz mono 16-bit) as a new voice message, as when moving voice mail from another system",
		Args:  exactArgs("FILE.wav"),
		RunE: func(cmd *cobra.Command, args []string) error {
			snap, err := a.snapshot(cmd)
			if err != nil {
				return err
			}
			box, err := snap.Mailbox(m.Mailbox)
			if err != nil {
				return fmt.Errorf("--mailbox: %w", err)
			}
			m.Mailbox = box.EmailAddress
			if received != "" {
				if m.ReceivedAt, err = time.Parse(time.RFC3339, received); err != nil {
					return fmt.Errorf("--received must be an RFC 3339 time such as 2026-03-01T09:30:00Z, not %q", received)
				}
			}
			wav, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			s, err := a.messages(cmd.Context())
			if err != nil {
				return err
			}
			saved, err := s.Save(cmd.Context(), a.actor(), m, wav)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return a.printOne(saved)
		},
	}
	cmd.Flags().StringVar(&m.Mailbox, "mailbox", "", "the mailbox's email address (required)")
	cmd.Flags().StringVar(&m.CallerNumber, "caller", "", "the calling number (required)")
	cmd.Flags().StringVar(&m.CallerName, "caller-name", "", "the caller's name")
	cmd.Flags().StringVar(&received, "received", "", "when the message was left, RFC 3339 (default: now)")
	_ = cmd.MarkFlagRequired("mailbox")
	_ = cmd.MarkFlagRequired("caller")
	return cmd
}
