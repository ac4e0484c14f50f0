package admin

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/openum/openum/internal/delivery"
	"github.com/openum/openum/internal/directory"
	"github.com/openum/openum/internal/sip"
)

// Console is what the web console reads and changes besides the admin
// Config's: set Config.Console to serve it under /console/.
type Console struct {
	// Directory is read afresh for each page, so that a change shows at
	// once, and takes the console's changes (audited, the token's name as
	// the actor).
	Directory  directory.Directory
	ServerName string          // this server's directory record, which Drain marks NoNewCalls
	SIP        *sip.Server     // listeners, calls in progress, gateways' OPTIONS
	Spool      *delivery.Spool // the delivery queue
	EventLog   string          // the event log's path
}

//go:embed templates/*.html static/*
var consoleFiles embed.FS

// consoleTemplates are the pages, each parsed with the layout.
var consoleTemplates = func() map[string]*template.Template {
	funcs := template.FuncMap{"when": when, "days": daysLeft, "attrs": attrList}
	pages, _ := fs.Glob(consoleFiles, "templates/*.html")
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleFiles, "templates/layout.html", p))
	}
	return out
}()

// console serves the web console: a logon form that takes a token, then
// server-rendered pages for a session, with no script.
type console struct {
	cfg      Console
	srv      *Server
	auth     *authenticator
	sessions *sessions
}

// page is what every template gets.
type page struct {
	Title      string
	Nav        string // the menu entry to mark
	Actor      string // the token's name
	Role       directory.AdminRole
	CanOperate bool // operator or admin: the page shows its buttons
	CSRF       string
	Done       string // what the last change did
	Error      string
	Data       any
}

// consoleRoutes adds the console's paths to mux. Every page is behind a
// session; POSTs are also checked for their origin (CrossOriginProtection:
// Sec-Fetch-Site and Origin) and their CSRF field.
func (s *Server) consoleRoutes(mux *http.ServeMux) {
	c := &console{cfg: *s.cfg.Console, srv: s, auth: s.auth, sessions: newSessions()}
	static, _ := fs.Sub(consoleFiles, "static")
	m := http.NewServeMux()
	m.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /console/logon", c.logonForm)
	m.HandleFunc("POST /console/logon", c.logon)
	m.HandleFunc("POST /console/logoff", c.logoff)
	for path, h := range map[string]func(context.Context) (string, any, error){
		"/console/{$}":          c.overview,
		"/console/dialplans":    c.dialPlans,
		"/console/gateways":     c.gateways,
		"/console/huntgroups":   c.huntGroups,
		"/console/mailboxes":    c.mailboxes,
		"/console/certificates": c.certificates,
	} {
		m.Handle("GET "+path, c.session(c.show(h)))
	}
	m.Handle("GET /console/events", c.session(http.HandlerFunc(c.events)))
	m.Handle("POST /console/gateways/{name}/status", c.session(c.change(c.gatewayStatus)))
	m.Handle("POST /console/mailboxes/{email}/unlock", c.session(c.change(c.unlock)))
	m.Handle("POST /console/drain", c.session(c.change(c.drain)))
	h := securityHeaders(http.NewCrossOriginProtection().Handler(m))
	mux.Handle("/console/", h)
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusSeeOther))
}

// sessionKey is the context key of a request's session.
type sessionKey struct{}

// current is the request's session and its token, set by c.session.
type current struct {
	session *session
	token   *directory.AdminToken
}

// session runs h for a request of a live session whose token is still in
// the directory; anyone else is sent to the logon form.
func (c *console) session(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cur current
		if ck, err := r.Cookie(sessionCookie); err == nil {
			cur.session = c.sessions.get(ck.Value, time.Now())
			if cur.session != nil {
				if cur.token = c.auth.lookup(r.Context(), cur.session.tokenHash); cur.token == nil {
					c.sessions.end(ck.Value) // the token was removed
				}
			}
		}
		if cur.token == nil {
			http.Redirect(w, r, "/console/logon", http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, cur)))
	})
}

// render writes the template name with p, filled in from the session.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if cur, ok := r.Context().Value(sessionKey{}).(current); ok {
		p.Actor, p.Role, p.CSRF = cur.token.Name, cur.token.Role, cur.session.csrf
		p.CanOperate = cur.token.Role.Allows(directory.RoleOperator)
	}
	if p.Nav == "" {
		p.Nav = name
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = consoleTemplates[name].Execute(w, p)
}

// show serves a read-only page: load returns its title and data.
func (c *console) show(load func(context.Context) (string, any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/console/")
		if name == "" {
			name = "overview"
		}
		title, data, err := load(r.Context())
		if err != nil {
			c.render(w, r, http.StatusInternalServerError, "error", page{Title: "Error", Nav: name, Error: err.Error()})
			return
		}
		c.render(w, r, http.StatusOK, name, page{Title: title, Data: data, Done: doneMessages[r.URL.Query().Get("done")]})
	})
}

// logonForm shows the form that takes a token.
func (c *console) logonForm(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "logon", page{Title: "Log on"})
}

// logon checks the token posted as the API checks a bearer token (the
// same limit per source, the same 9600 on failure, an answer that says
// nothing of why) and opens a session.
func (c *console) logon(w http.ResponseWriter, r *http.Request) {
	ip := remoteIP(r)
	token := strings.TrimSpace(r.PostFormValue("token"))
	var t *directory.AdminToken
	reason := "missing"
	switch {
	case c.auth.limited(ip):
		reason = "rate-limited"
	case token != "":
		t, reason = c.auth.check(r.Context(), token)
	}
	if t == nil {
		c.auth.refused(r, ip, reason, "")
		c.render(w, r, http.StatusUnauthorized, "logon", page{Title: "Log on", Error: "That token is not valid."})
		return
	}
	id, _ := c.sessions.start(t.Hash, time.Now())
	setCookie(w, id)
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// logoff ends the session, whatever state it is in.
func (c *console) logoff(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if se := c.sessions.get(ck.Value, time.Now()); se != nil && se.validCSRF(r) {
			c.sessions.end(ck.Value)
		}
	}
	setCookie(w, "")
	http.Redirect(w, r, "/console/logon", http.StatusSeeOther)
}

// forbidden answers a change asked for by a readonly token.
const forbidden = "your token's role (readonly) may only look: an operator or admin token may change this"

// change serves a POST that changes something, for an operator or admin
// with the session's CSRF field; do returns what it did, as a key of
// doneMessages, and the page to go back to.
func (c *console) change(do func(*http.Request, directory.Actor) (done, back string, err error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := r.Context().Value(sessionKey{}).(current)
		switch {
		case !cur.session.validCSRF(r):
			c.render(w, r, http.StatusForbidden, "error", page{Title: "Refused", Error: "the form is out of date: reload the page and try again"})
			return
		case !cur.token.Role.Allows(directory.RoleOperator):
			c.render(w, r, http.StatusForbidden, "error", page{Title: "Refused", Error: forbidden})
			return
		}
		actor := directory.Actor{User: cur.token.Name, Command: "web console: " + r.URL.Path}
		done, back, err := do(r, actor)
		if err != nil {
			c.render(w, r, http.StatusBadRequest, "error", page{Title: "Not changed", Error: err.Error()})
			return
		}
		http.Redirect(w, r, back+"?done="+done, http.StatusSeeOther)
	})
}
