package msgstore

import (
	"fmt"
	"strconv"
)

// ParseID reads a message ID as an administrator types it (openum message
// get ID, GET /api/v1/messages/ID).
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("a message ID is a positive whole number (as message list shows), not %q", s)
	}
	return id, nil
}
