package events

import (
	"bufio"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCatalogueMatchesCode holds docs/events.md and the code to each other,
// both ways: every event the code emits is documented with its level, every
// documented event is emitted, and the IDs of features not built yet stand
// in the "Planned" section, never emitted.
func TestCatalogueMatchesCode(t *testing.T) {
	root := filepath.Join("..", "..")
	documented, planned := readCatalogue(t, filepath.Join(root, "docs", "events.md"))
	consts := eventConstants(t)
	emitted := emittedConstants(t, root)

	for name := range emitted {
		id := consts[name]
		level, ok := documented[id]
		switch {
		case planned[id]:
			t.Errorf("event %d (%s) is emitted but docs/events.md lists it as planned", id, name)
		case !ok:
			t.Errorf("event %d (%s) is emitted but not documented in docs/events.md", id, name)
		case level != levelName(id.Level().String()):
			t.Errorf("event %d (%s): docs/events.md says %s, the code writes it at %s", id, name, level, levelName(id.Level().String()))
		}
	}
	byID := map[EventID]string{}
	for name, id := range consts {
		byID[id] = name
	}
	for id := range documented {
		name, ok := byID[id]
		if !ok {
			t.Errorf("docs/events.md documents event %d, which has no EventID constant", id)
			continue
		}
		if !emitted[name] {
			t.Errorf("docs/events.md documents event %d (%s), which nothing emits: emit it or move it to the Planned section", id, name)
		}
	}
	for id := range planned {
		if _, ok := byID[id]; !ok {
			t.Errorf("docs/events.md plans event %d, which has no EventID constant", id)
		}
	}
	for name, id := range consts {
		if _, ok := documented[id]; !ok && !planned[id] {
			t.Errorf("the constant %s (%d) is neither documented nor planned in docs/events.md", name, id)
		}
	}
}

// readCatalogue returns the level of each documented event ID, and the IDs
// of the "Planned" section. Rows are table lines "| ID | level | ...".
func readCatalogue(t *testing.T, path string) (map[EventID]string, map[EventID]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^\|\s*(\d{4})\s*\|\s*([A-Za-z]+)\s*\|`)
	documented, planned := map[EventID]string{}, map[EventID]bool{}
	inPlanned := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			inPlanned = strings.HasPrefix(strings.ToLower(line), "## planned")
			continue
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		id := EventID(n)
		if _, dup := documented[id]; dup || planned[id] {
			t.Errorf("docs/events.md lists event %d twice", id)
		}
		if inPlanned {
			planned[id] = true
		} else {
			documented[id] = m[2]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(documented) == 0 {
		t.Fatal("docs/events.md: no event rows found")
	}
	return documented, planned
}

// eventConstants reads the EventID constants of this package's source.
func eventConstants(t *testing.T) map[string]EventID {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]EventID{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "EventID" || len(vs.Values) != len(vs.Names) {
					continue
				}
				for i, name := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						t.Fatalf("%s: EventID constants must be integer literals", name.Name)
					}
					v, _ := constant.Int64Val(constant.MakeFromLiteral(lit.Value, lit.Kind, 0))
					out[name.Name] = EventID(v)
				}
			}
		}
	}
	return out
}

// emittedConstants finds every events.X selector in the non-test Go code of
// the module outside this package: what the code can emit.
func emittedConstants(t *testing.T, root string) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == ".git" || name == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "events" && ast.IsExported(sel.Sel.Name) {
				found[sel.Sel.Name] = true
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Only the EventID constants count: events.Log, events.Open and the
	// like are the package's API.
	consts := eventConstants(t)
	for name := range found {
		if _, ok := consts[name]; !ok {
			delete(found, name)
		}
	}
	return found
}
