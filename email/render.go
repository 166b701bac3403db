package email

import (
	"bytes"
	"embed"
	"encoding/json"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"

	"github.com/doorman-dev/doorman"
)

// templates hold, per kind and language, KIND.LANG.txt (which defines
// "subject" and "text") and KIND.LANG.html (which defines "html"), and
// the layout message.LANG.html for kinds without templates of their own.
// Another language is one more file per kind.
//
//go:embed templates/*
var templates embed.FS

// textTemplates and htmlTemplates are each file parsed on its own (the
// files of one kind define the same names), by file name.
var textTemplates, htmlTemplates = parseTemplates()

func parseTemplates() (map[string]*texttemplate.Template, map[string]*htmltemplate.Template) {
	texts, htmls := map[string]*texttemplate.Template{}, map[string]*htmltemplate.Template{}
	names, _ := fs.Glob(templates, "templates/*")
	for _, path := range names {
		name := strings.TrimPrefix(path, "templates/")
		switch {
		case strings.HasSuffix(name, ".txt"):
			texts[name] = texttemplate.Must(texttemplate.New(name).ParseFS(templates, path))
		case strings.HasSuffix(name, ".html"):
			htmls[name] = htmltemplate.Must(htmltemplate.New(name).Funcs(htmltemplate.FuncMap{"split": paragraphs}).ParseFS(templates, path))
		}
	}
	return texts, htmls
}

// Rendered is an email ready to send.
type Rendered struct {
	Subject, Text, HTML string
}

// Data is what a template is rendered from: the message's payload (a JSON
// object) as Data, and the message itself for the layout.
type Data struct {
	Data        map[string]any
	Subject     string
	Text        string
	Unsubscribe string
	Lang        string
}

// Languages lists the languages a kind has templates in.
func Languages(kind string) []string {
	var langs []string
	names, _ := fs.Glob(templates, "templates/"+kind+".*.txt")
	for _, n := range names {
		langs = append(langs, strings.TrimSuffix(strings.TrimPrefix(n, "templates/"+kind+"."), ".txt"))
	}
	return langs
}

// pick returns the language of the templates to use for lang (its base,
// "es" for "es-MX", or English).
func pick(name, lang string) string {
	lang = strings.ToLower(lang)
	for _, l := range []string{lang, strings.SplitN(lang, "-", 2)[0]} {
		if textTemplates[name+"."+l+".txt"] != nil && htmlTemplates[name+"."+l+".html"] != nil {
			return l
		}
	}
	return doorman.LanguageDefault
}

// Render renders m in lang: with its kind's templates and its payload
// when the kind has them, else its own subject and text in the layout.
// Values from the payload and the text are escaped in the HTML. Returns
// EINVALID for a payload that is not a JSON object, or a template that
// fails on it.
func Render(m *doorman.Message, lang, unsubscribeURL string) (*Rendered, error) {
	d := Data{Subject: m.Subject, Text: m.Text, Unsubscribe: unsubscribeURL}
	if len(m.Payload) > 0 {
		if err := json.Unmarshal(m.Payload, &d.Data); err != nil {
			return nil, doorman.Errorf(doorman.EINVALID, "The message's data is not a JSON object: %v", err)
		}
	}
	name := m.Kind
	if textTemplates[name+"."+doorman.LanguageDefault+".txt"] == nil {
		name = "message"
	}
	d.Lang = pick(name, lang)
	var r Rendered
	var text, html, subject bytes.Buffer
	if name == "message" {
		r.Subject = m.Subject
		if err := textTemplates["message."+d.Lang+".txt"].Execute(&text, d); err != nil {
			return nil, doorman.Errorf(doorman.EINVALID, "The message's text template failed: %v", err)
		}
	} else {
		t := textTemplates[name+"."+d.Lang+".txt"]
		if err := t.ExecuteTemplate(&subject, "subject", d); err != nil {
			return nil, doorman.Errorf(doorman.EINVALID, "The %s subject template failed: %v", name, err)
		}
		if err := t.ExecuteTemplate(&text, "text", d); err != nil {
			return nil, doorman.Errorf(doorman.EINVALID, "The %s text template failed: %v", name, err)
		}
		r.Subject = strings.TrimSpace(subject.String())
	}
	if err := htmlTemplates[name+"."+d.Lang+".html"].Execute(&html, d); err != nil {
		return nil, doorman.Errorf(doorman.EINVALID, "The %s HTML template failed: %v", name, err)
	}
	r.Text, r.HTML = text.String(), html.String()
	if r.Subject == "" {
		r.Subject = "Doorman"
	}
	return &r, nil
}

// paragraphs splits text at blank lines.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
