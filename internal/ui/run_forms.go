package ui

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/runbook"
)

// inputForm is the form of a waiting input step, one field per property
// of its JSON Schema.
type inputForm struct {
	Action string
	CSRF   string
	Fields []schemaField
}

// schemaField is one property of an input step's schema as a form field:
// text (a string), number or integer (a text box with the number
// keyboard), enum (a select), boolean (a checkbox), list (an array of
// strings: one per line).
type schemaField struct {
	Name     string // the property
	ID       string // the input's id and name: answer-<name>
	Label    string
	Hint     string
	Kind     string
	Required bool
	Value    string // as typed
	Checked  bool
	Options  []schemaOption
	Error    *fieldError
	// Described: the ids the input is described by (its hint, its error).
	Described string
}

// schemaOption is one value of an enum.
type schemaOption struct {
	Value, Label string
	Selected     bool
}

// approvalForm is the form of a waiting approval step.
type approvalForm struct {
	Action        string
	CSRF          string
	Role          string // who decides, in words
	Comment       string
	CommentError  *fieldError
	DecisionError *fieldError
}

// answerID is the id of the form field of an input's property.
func answerID(name string) string { return "answer-" + name }

// stepForm adds to a waiting input or approval step its form, when p may
// answer it, or why not. typed is what a form that came back with
// errors held for this step.
func (u *UI) stepForm(l i18n.Locale, csrf string, p access.Principal, inc *incident.Incident, base string, sv *runStepView, def *playbook.Step, typed *runStepView, errs []fieldError) {
	switch def.Action {
	case playbook.ActionInput:
		if !p.MayWrite(access.AnswerInput, inc.Relations) {
			sv.Refusal = l.T("runs.refusal.input")
			return
		}
		f := &inputForm{Action: base + "/steps/" + def.ID + "/answer", CSRF: csrf, Fields: schemaFields(l, def)}
		for i := range f.Fields {
			fd := &f.Fields[i]
			if typed != nil && typed.Input != nil {
				for _, t := range typed.Input.Fields {
					if t.Name == fd.Name {
						fd.Value, fd.Checked = t.Value, t.Checked
					}
				}
			}
			fd.Error = findFieldError(errs, fd.ID)
			var d []string
			if fd.Hint != "" {
				d = append(d, fd.ID+"-hint")
			}
			if fd.Error != nil {
				d = append(d, fd.ID+"-error")
			}
			fd.Described = strings.Join(d, " ")
		}
		sv.Input = f
	case playbook.ActionApproval:
		role, _ := def.With["role"].(string)
		if p.RequireApprover(inc.Relations, access.Role(role), def.ID) != nil {
			sv.Refusal = l.T("runs.refusal.approval", roleName(l, role))
			return
		}
		a := &approvalForm{Action: base + "/steps/" + def.ID + "/decide", CSRF: csrf, Role: roleName(l, role)}
		if typed != nil && typed.Approval != nil {
			a.Comment = typed.Approval.Comment
		}
		a.CommentError = findFieldError(errs, "comment-"+def.ID)
		a.DecisionError = findFieldError(errs, "decision-"+def.ID)
		sv.Approval = a
	}
}

// schemaFields are the fields of an input step's schema, in the order
// of its properties' names (required ones first).
func schemaFields(l i18n.Locale, def *playbook.Step) []schemaField {
	sch, _ := def.With["schema"].(map[string]any)
	props, _ := sch["properties"].(map[string]any)
	var required []string
	if rs, ok := sch["required"].([]any); ok {
		for _, r := range rs {
			required = append(required, fmt.Sprint(r))
		}
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		ra, rb := slices.Contains(required, a), slices.Contains(required, b)
		switch {
		case ra && !rb:
			return -1
		case rb && !ra:
			return 1
		}
		return strings.Compare(a, b)
	})
	var out []schemaField
	for _, name := range names {
		prop, _ := props[name].(map[string]any)
		f := schemaField{Name: name, ID: answerID(name), Label: labelOf(name, prop), Required: slices.Contains(required, name), Kind: "text"}
		f.Hint, _ = prop["description"].(string)
		typ, _ := prop["type"].(string)
		switch {
		case prop["enum"] != nil:
			f.Kind = "enum"
			vals, _ := prop["enum"].([]any)
			for _, v := range vals {
				f.Options = append(f.Options, schemaOption{Value: fmt.Sprint(v), Label: fmt.Sprint(v)})
			}
		case typ == "boolean":
			f.Kind = "boolean"
		case typ == "integer" || typ == "number":
			f.Kind = typ
			var rule []string
			if m, ok := prop["minimum"]; ok {
				rule = append(rule, l.T("runs.hint.minimum", fmt.Sprint(m)))
			}
			if m, ok := prop["maximum"]; ok {
				rule = append(rule, l.T("runs.hint.maximum", fmt.Sprint(m)))
			}
			if typ == "integer" {
				rule = append([]string{l.T("runs.hint.integer")}, rule...)
			}
			f.Hint = strings.TrimSpace(strings.Join(append([]string{f.Hint}, rule...), " "))
		case typ == "array":
			f.Kind = "list"
			f.Hint = strings.TrimSpace(f.Hint + " " + l.T("runs.hint.list"))
		}
		out = append(out, f)
	}
	return out
}

// labelOf is a property's label: its title, else its name in words.
func labelOf(name string, prop map[string]any) string {
	if t, ok := prop["title"].(string); ok && strings.TrimSpace(t) != "" {
		return t
	}
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return name
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// answersOf reads an input form: the answers for the step's schema, the
// fields as typed (to show again), and the errors of values that are not
// of their field's kind (a number that is no number). An empty field is
// left out, so that a required one is reported as missing.
func answersOf(l i18n.Locale, def *playbook.Step, form url.Values) (map[string]any, []schemaField, []fieldError) {
	fields := schemaFields(l, def)
	answers := map[string]any{}
	var errs []fieldError
	for i := range fields {
		f := &fields[i]
		raw := strings.TrimSpace(form.Get(f.ID))
		f.Value = form.Get(f.ID)
		switch f.Kind {
		case "boolean":
			f.Checked = raw != ""
			answers[f.Name] = f.Checked
		case "integer", "number":
			if raw == "" {
				continue
			}
			n, err := strconv.ParseFloat(strings.ReplaceAll(strings.ReplaceAll(raw, " ", ""), ",", "."), 64)
			switch {
			case (err != nil || math.IsInf(n, 0) || math.IsNaN(n)) && f.Kind == "number":
				errs = append(errs, fieldError{Field: f.ID, Message: l.T("runs.error.number", f.Label)})
			case err != nil || math.IsInf(n, 0) || math.IsNaN(n) || n != math.Trunc(n):
				errs = append(errs, fieldError{Field: f.ID, Message: l.T("runs.error.integer", f.Label)})
			default:
				answers[f.Name] = n
			}
		case "enum":
			if raw == "" {
				continue
			}
			prop := schemaProp(def, f.Name)
			vals, _ := prop["enum"].([]any)
			found := false
			for _, v := range vals {
				if fmt.Sprint(v) == raw {
					answers[f.Name], found = v, true
				}
			}
			if !found {
				errs = append(errs, fieldError{Field: f.ID, Message: l.T("runs.error.enum", f.Label)})
			}
		case "list":
			var items []any
			for _, line := range strings.Split(raw, "\n") {
				if s := strings.TrimSpace(line); s != "" {
					items = append(items, s)
				}
			}
			if len(items) > 0 {
				answers[f.Name] = items
			}
		default:
			if raw != "" {
				answers[f.Name] = raw
			}
		}
	}
	return answers, fields, errs
}

func schemaProp(def *playbook.Step, name string) map[string]any {
	sch, _ := def.With["schema"].(map[string]any)
	props, _ := sch["properties"].(map[string]any)
	p, _ := props[name].(map[string]any)
	return p
}

// answerErrors turns the service's errors of an input's answers
// (answers.<name>, with their rule) into the form's, in the page's
// language: the field's label and the rule with its limit from the
// schema. Fields that already have an error keep theirs.
func answerErrors(l i18n.Locale, def *playbook.Step, fields []schemaField, have []fieldError, err error) ([]fieldError, error) {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return have, err
	}
	out := have
	for _, fe := range e.Fields {
		name := strings.TrimPrefix(fe.Field, "answers.")
		if i := strings.IndexByte(name, '.'); i >= 0 {
			name = name[:i] // an item of a list: the list's field
		}
		id := answerID(name)
		if findFieldError(out, id) != nil {
			continue
		}
		label := name
		for _, f := range fields {
			if f.Name == name {
				label = f.Label
			}
		}
		if !slices.ContainsFunc(fields, func(f schemaField) bool { return f.Name == name }) {
			id = "answer-form" // not a field of the form (a rule of the whole answer)
		}
		prop := schemaProp(def, name)
		var msg string
		switch fe.Rule {
		case "required":
			msg = l.T("runs.error.required", label)
		case "type":
			msg = l.T("runs.error.type", label)
		case "enum":
			msg = l.T("runs.error.enum", label)
		case "minimum":
			msg = l.T("runs.error.minimum", label, fmt.Sprint(prop["minimum"]))
		case "maximum":
			msg = l.T("runs.error.maximum", label, fmt.Sprint(prop["maximum"]))
		case "min_length":
			msg = l.T("runs.error.min_length", label, fmt.Sprint(prop["minLength"]))
		case "max_length":
			msg = l.T("runs.error.max_length", label, fmt.Sprint(prop["maxLength"]))
		default:
			msg = l.T("runs.error.schema", label)
		}
		out = append(out, fieldError{Field: id, Message: msg})
	}
	return out, nil
}

// stepDef is the definition of a run's step in its pinned playbook;
// apperr.NotFound when the run has no such step.
func (u *UI) stepDef(r *runbook.Run, stepID string) (*playbook.Step, error) {
	pb, err := u.o.Runs.Pinned(r)
	if err != nil {
		return nil, err
	}
	if d := pb.Step(stepID); d != nil {
		return d, nil
	}
	return nil, apperr.New(apperr.NotFound, "run %s has no step %q", r.ID, stepID)
}
