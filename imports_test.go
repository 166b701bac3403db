package doorman_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// module is this module's path.
const module = "github.com/doorman-dev/doorman"

// importRule is what one package may import directly; see importRules.
type importRule struct {
	// Module lists the module's packages it may import, by path inside
	// the module ("." for the root package).
	Module []string
	// ThirdParty lists the third-party module or package paths it may
	// import, each with everything below it.
	ThirdParty []string
	// NoStd lists standard library packages it must not import.
	NoStd []string
}

// importBan forbids rows of importRules to allow some imports.
type importBan struct {
	// Rows selects the rows: a path inside the module, or "x/..." for x
	// and every package below it.
	Rows string
	// Except lists rows that Rows selects but the ban does not cover.
	Except []string
	// Why says which rule the ban keeps.
	Why string
	// Module lists the module's packages the rows must not allow, as
	// paths or patterns like Rows ("..." is every package).
	Module []string
	// ExceptModule lists module packages that Module matches but that the
	// rows may allow all the same.
	ExceptModule []string
	// ThirdParty lists third-party paths the rows must not allow, each
	// with everything below it ("" is every third-party path).
	ThirdParty []string
}

// listedPackage is the part of go list's answer the rules need.
type listedPackage struct {
	ImportPath string
	Imports    []string
}

// goListPackages lists the module's packages, as built for this machine's
// GOOS and GOARCH, with their direct non-test imports.
func goListPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// rel returns a module package's path inside the module ("." for the
// root) and whether path is the module's at all.
func rel(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// display names a package of the module in messages.
func display(name string) string {
	if name == "." {
		return "doorman (the root package)"
	}
	return name
}

// standard reports whether an import path is the standard library's: its
// first element has no dot (the go command reserves those).
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// under reports whether path is prefix or below it; "" is above all.
func under(path, prefix string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// matches reports whether a path inside the module matches a pattern:
// the same path, "x/..." for x and below, or "..." for every package.
func matches(path, pattern string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return under(path, base)
	}
	return path == pattern
}

// importViolations returns a message for every import of pkgs that its
// rule does not allow, and for every package of the module without a
// rule.
func importViolations(pkgs []listedPackage, rules map[string]importRule) []string {
	var out []string
	for _, p := range pkgs {
		name, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		rule, ok := rules[name]
		if !ok {
			out = append(out, fmt.Sprintf("package %s has no row in importRules: add one from its doc.go saying what it may import", display(name)))
			continue
		}
		for _, imp := range p.Imports {
			if why := forbidden(rule, imp); why != "" {
				out = append(out, fmt.Sprintf("package %s imports %s, %s", display(name), imp, why))
			}
		}
	}
	return out
}

// forbidden returns why the rule does not allow importing imp, or "".
func forbidden(rule importRule, imp string) string {
	if inModule, ok := rel(imp); ok {
		if slices.Contains(rule.Module, inModule) {
			return ""
		}
		names := make([]string, len(rule.Module))
		for i, m := range rule.Module {
			names[i] = strings.Replace(display(m), " (the root package)", "", 1)
		}
		return fmt.Sprintf("which its rule does not allow (module packages it may import: %s)", list(names))
	}
	if standard(imp) {
		if slices.Contains(rule.NoStd, imp) {
			return fmt.Sprintf("which its rule forbids (standard packages it must not import: %s)", list(rule.NoStd))
		}
		return ""
	}
	if slices.ContainsFunc(rule.ThirdParty, func(allowed string) bool { return under(imp, allowed) }) {
		return ""
	}
	return fmt.Sprintf("which its rule does not allow (third-party code it may import: %s)", list(rule.ThirdParty))
}

// banViolations returns a message for every row of rules that allows what
// a ban forbids.
func banViolations(rules map[string]importRule, bans []importBan) []string {
	var out []string
	for _, name := range sortedKeys(rules) {
		rule := rules[name]
		for _, ban := range bans {
			if !matches(name, ban.Rows) || slices.Contains(ban.Except, name) {
				continue
			}
			for _, m := range rule.Module {
				if slices.ContainsFunc(ban.Module, func(p string) bool { return matches(m, p) }) && !slices.Contains(ban.ExceptModule, m) {
					out = append(out, fmt.Sprintf("importRules lets %s import %s, but %s", display(name), m, ban.Why))
				}
			}
			for _, tp := range rule.ThirdParty {
				if slices.ContainsFunc(ban.ThirdParty, func(b string) bool { return under(tp, b) || under(b, tp) }) {
					out = append(out, fmt.Sprintf("importRules lets %s import %s, but %s", display(name), tp, ban.Why))
				}
			}
		}
	}
	return out
}

// absentRows returns the rows of rules with no package in pkgs.
func absentRows(pkgs []listedPackage, rules map[string]importRule) []string {
	var out []string
	for _, name := range sortedKeys(rules) {
		if !slices.ContainsFunc(pkgs, func(p listedPackage) bool { r, _ := rel(p.ImportPath); return r == name }) {
			out = append(out, name)
		}
	}
	return out
}

func sortedKeys(rules map[string]importRule) []string {
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// TestImportRules_CatchesBreaks shows the checks fail where they must: on
// a package importing what its row does not allow, on a package without
// a row, and on a row allowing what a ban forbids.
func TestImportRules_CatchesBreaks(t *testing.T) {
	pkgs := []listedPackage{
		{ImportPath: module, Imports: []string{"fmt", "github.com/nats-io/nats.go"}},
		{ImportPath: module + "/policy", Imports: []string{module, module + "/sqlite", "time", "os"}},
		{ImportPath: module + "/wire", Imports: []string{module, "net/http", "golang.org/x/crypto/blake2b", "golang.org/x/crypto/argon2"}},
		{ImportPath: module + "/agent", Imports: []string{module + "/agent/relay", "periph.io/x/conn/v3/gpio"}},
		{ImportPath: module + "/agent/relay/gpio", Imports: []string{module + "/agent/relay", "periph.io/x/conn/v3/gpio", "context"}},
		{ImportPath: module + "/agent/newdriver", Imports: []string{"context"}},
	}
	want := []string{
		"package doorman (the root package) imports github.com/nats-io/nats.go,",
		"package policy imports " + module + "/sqlite,",
		"package policy imports os,",
		"package wire imports net/http,",
		"package wire imports golang.org/x/crypto/argon2,",
		"package agent imports periph.io/x/conn/v3/gpio,",
		"package agent/newdriver has no row in importRules",
	}
	got := importViolations(pkgs, importRules)
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("no violation starting %q; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}

	loose := map[string]importRule{
		".":                 {Module: []string{"wire"}},
		"policy":            {Module: []string{".", "access"}},
		"agent":             {Module: []string{".", "natsbus"}, ThirdParty: []string{"periph.io/x/conn/v3"}},
		"agent/relay/gpio":  {ThirdParty: []string{"periph.io/x/conn/v3"}},
		"cmd/doorman":       {Module: []string{"agent/relay/gpio"}},
		"cmd/doorman-agent": {Module: []string{"agent", "sqlite"}},
		"wire":              {ThirdParty: []string{"github.com/nats-io"}},
		"app":               {Module: []string{".", "http"}, ThirdParty: []string{"github.com/danielgtaylor/huma/v2"}},
	}
	wantBans := []string{
		"importRules lets doorman (the root package) import wire,",
		"importRules lets policy import access,",
		"importRules lets agent import natsbus,",
		"importRules lets agent import periph.io/x/conn/v3,",
		"importRules lets cmd/doorman import agent/relay/gpio,",
		"importRules lets cmd/doorman-agent import sqlite,",
		"importRules lets wire import github.com/nats-io,",
		"importRules lets app import http,",
		"importRules lets app import github.com/danielgtaylor/huma/v2,",
	}
	gotBans := banViolations(loose, importBans)
	for _, w := range wantBans {
		if !slices.ContainsFunc(gotBans, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("no ban violation starting %q; got:\n%s", w, strings.Join(gotBans, "\n"))
		}
	}
	if len(gotBans) != len(wantBans) {
		t.Errorf("%d ban violations, want %d:\n%s", len(gotBans), len(wantBans), strings.Join(gotBans, "\n"))
	}
}
