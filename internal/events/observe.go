package events

import (
	"log/slog"
	"sync"
)

// Observer is told of every event a Log emits, after it is written, with
// the attributes as Emit got them. It runs in the emitter's goroutine, so
// it must be quick and must not call Emit. Metrics count events this way
// (internal/admin), so that the packages that emit them count nothing.
type Observer func(id EventID, attrs []slog.Attr)

// observers is the list a Log calls; its zero value holds none.
type observers struct {
	mu   sync.RWMutex
	list []Observer
}

// Observe adds o to the observers of l. Observe on a nil *Log does nothing.
func (l *Log) Observe(o Observer) {
	if l == nil {
		return
	}
	l.obs.mu.Lock()
	l.obs.list = append(l.obs.list, o)
	l.obs.mu.Unlock()
}

func (o *observers) notify(id EventID, attrs []slog.Attr) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, f := range o.list {
		f(id, attrs)
	}
}
