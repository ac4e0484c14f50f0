package voicemail

import (
	"os"
	"sync"

	"github.com/openum/openum/internal/media"
)

// greetingCache shares the decoded custom greetings between the calls
// that play them, as Prompt shares the default prompts: a greeting lasts
// up to MaxGreetingDuration (a 90 s one is 1.4 MB), and a thousand callers
// to one popular mailbox each holding their own copy held 1.4 GB.
//
// It holds a greeting only while a call plays it (a count of the calls
// holding it; the last to let go drops it), so it is bounded by the
// greetings being played, one copy each, and keeps nothing for mailboxes
// nobody is calling: an LRU would either keep idle greetings of up to
// 9.6 MB each or, when smaller than the greetings in play, copy them again.
//
// A copy is of one version of the file: the file it was read from, its
// size and its modification time. A re-recorded greeting (saveGreeting
// replaces the file, and forgets its copy) or one an administrator
// replaced is read afresh by the next call, while the calls already
// playing the old one finish it.
//
// The zero value is ready; it is safe for concurrent calls.
type greetingCache struct {
	mu   sync.Mutex
	held map[string]*sharedGreeting // by path
}

// sharedGreeting is one version of a greeting file, decoded once.
type sharedGreeting struct {
	version os.FileInfo
	calls   int                     // calls holding it, under greetingCache.mu
	decode  func() ([]int16, error) // sync.OnceValues: decoded by the first call that needs it
}

// get returns the greeting in the file at path, decoded, and release, to
// call once the call no longer plays it. The greeting is shared: read it,
// never change it; its capacity is its length, so an append copies.
func (c *greetingCache) get(path string) (pcm []int16, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	// Closed once decoded: decode reads this open file, the version fstat
	// saw, not whatever is at path by then.
	defer f.Close()
	version, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	g := c.hold(path, version, func() ([]int16, error) {
		pcm, err := media.ReadWAV(f)
		return pcm[:len(pcm):len(pcm)], err
	})
	release = func() { c.release(path, g) }
	if pcm, err = g.decode(); err != nil {
		release()
		return nil, nil, err
	}
	return pcm, release, nil
}

// hold counts one more call holding the greeting at path in version,
// which read decodes if no call holds it yet.
func (c *greetingCache) hold(path string, version os.FileInfo, read func() ([]int16, error)) *sharedGreeting {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.held[path]
	if g == nil || !sameVersion(g.version, version) {
		g = &sharedGreeting{version: version, decode: sync.OnceValues(read)}
		if c.held == nil {
			c.held = make(map[string]*sharedGreeting)
		}
		c.held[path] = g
	}
	g.calls++
	return g
}

// release lets go of g; the last call holding it drops it.
func (c *greetingCache) release(path string, g *sharedGreeting) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g.calls--; g.calls == 0 && c.held[path] == g {
		delete(c.held, path)
	}
}

// forget drops the copy of the greeting at path, just replaced: the calls
// holding it finish it, the next reads the new file, even where its size
// and time (a coarse clock) would not tell the two apart.
func (c *greetingCache) forget(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, path)
}

// sameVersion reports whether a and b are the same version of a file.
func sameVersion(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// greetings are the custom greetings being played, of every Answering
// (a path names one mailbox's greeting, whoever plays it).
var greetings greetingCache
