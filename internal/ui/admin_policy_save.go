package ui

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// adminPolicySave previews (op=preview) or saves the policy as typed.
// Either way the rules are checked as the service checks them; an error
// brings the form back with every answer and the field's message. Saving
// goes to the page again with a notice; a preview shows what the policy
// would do to the imagined incident and saves nothing.
func (u *UI) adminPolicySave(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	slug := c.Param("slug")
	op, err := u.o.Escalations.GetPolicy(ctx, p, slug)
	if err != nil {
		return outOfScope(err)
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	rows, doc, at := policyFormOf(form)
	sample := policySample{Severity: form.Get("sample-severity"), TLP: form.Get("sample-tlp"),
		Significant: form.Get("sample-significant") == "yes", PersonalDataBreach: form.Get("sample-personal_data_breach") == "yes"}
	if !incident.Severity(sample.Severity).Valid() {
		sample.Severity = string(incident.High)
	}
	if !incident.TLP(sample.TLP).Valid() {
		sample.TLP = string(incident.TLPAmber)
	}
	pg := u.newPage(c, "admin_policy", "adminconf.policy.title", op.Org.Name)
	pol, err := doc.Policy()
	var pre *escalation.Preview
	if err == nil {
		if form.Get("op") == "preview" {
			pre, err = u.o.Escalations.PreviewPolicy(ctx, p, slug, pol, incident.Incident{Severity: incident.Severity(sample.Severity),
				TLP: incident.TLP(sample.TLP), Significant: sample.Significant, PersonalDataBreach: sample.PersonalDataBreach})
		} else {
			_, err = u.o.Escalations.SetPolicy(ctx, p, slug, pol)
		}
	}
	if err != nil {
		if pg.Errors, err = u.policyErrors(pg.L, err, rows, at); err != nil {
			return outOfScope(err)
		}
		v, verr := u.policyView(c, pg.L, p, op, rows, sample)
		if verr != nil {
			return verr
		}
		pg.Data = v
		return u.render(c, http.StatusUnprocessableEntity, pg)
	}
	if pre == nil {
		return c.Redirect(http.StatusSeeOther, "/admin/organisations/"+slug+"/escalation-policy?saved=1")
	}
	v, err := u.policyView(c, pg.L, p, op, rows, sample)
	if err != nil {
		return err
	}
	v.Previewed, v.Constituency = true, pre.Constituency
	for _, s := range pre.Steps {
		v.Steps = append(v.Steps, policyStepOf(pg.L, s))
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

var ruleRowRE = regexp.MustCompile(`^rule-(\d+)-row$`)

// policyFormOf reads the rules of the form, in the order of their rows:
// every row as typed (for the page again), and the policy document of
// the rows that are neither removed nor left empty, with at[i] the row of
// the document's i-th rule.
func policyFormOf(form map[string][]string) ([]policyRuleForm, escalation.PolicyDocument, []int) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var idx []int
	for k := range form {
		if m := ruleRowRE.FindStringSubmatch(k); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n < 10*escalation.MaxRules {
				idx = append(idx, n)
			}
		}
	}
	slices.Sort(idx)
	doc := escalation.PolicyDocument{Rules: []escalation.RuleDocument{}}
	var rows []policyRuleForm
	var at []int
	tri := func(s string) *bool {
		switch s {
		case "yes":
			b := true
			return &b
		case "no":
			b := false
			return &b
		}
		return nil
	}
	for _, i := range idx {
		f := func(m string) string { return get("rule-" + strconv.Itoa(i) + "-" + m) }
		r := policyRuleForm{Index: i, Name: f("name"), MinSeverity: f("min_severity"), Significant: f("significant"),
			PersonalDataBreach: f("personal_data_breach"), After: f("unacknowledged_for"), Action: f("action"), To: f("to"),
			Kind: f("kind"), RepeatUp: f("repeat_up") == "yes", Remove: f("remove") == "yes", New: f("new") == "yes"}
		if r.Remove || (r.New && r.Name == "" && r.After == "") {
			continue // removed, or the empty row of a new rule left empty
		}
		r.New = false
		rows = append(rows, r)
		rd := escalation.RuleDocument{Name: r.Name, UnacknowledgedFor: r.After, Action: r.Action, To: r.To, RepeatUp: r.RepeatUp,
			When: escalation.ConditionDocument{MinSeverity: r.MinSeverity, Significant: tri(r.Significant),
				PersonalDataBreach: tri(r.PersonalDataBreach)}}
		if r.Action == string(escalation.ActionEscalate) || r.Action == "" {
			rd.Kind = r.Kind // a notify rule has no kind: the form's choice is not asked for it
		}
		doc.Rules = append(doc.Rules, rd)
		at = append(at, len(rows)-1)
	}
	return rows, doc, at
}

var ruleMemberRE = regexp.MustCompile(`^rules\[(\d+)\]\.(.+)$`)

// policyErrors turns the policy's field errors into the form's: each
// beside its field in its rule and in the summary, "Rule 2: …", from the
// catalogue ("adminconf.policy.err.<member>.<rule>", else
// "adminconf.policy.err.<member>").
func (u *UI) policyErrors(l i18n.Locale, err error, rows []policyRuleForm, at []int) ([]fieldError, error) {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return nil, err
	}
	var out []fieldError
	for _, f := range e.Fields {
		m := ruleMemberRE.FindStringSubmatch(f.Field)
		if m == nil {
			out = append(out, fieldError{Field: "rule-" + strconv.Itoa(nextIndex(rows)) + "-name", Message: l.T("adminconf.policy.err.too_many", escalation.MaxRules)})
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i >= len(at) {
			continue
		}
		row := &rows[at[i]]
		member := strings.TrimPrefix(m[2], "when.")
		key := "adminconf.policy.err." + member + "." + f.Rule
		if !u.o.Catalogue.Has(key) {
			key = "adminconf.policy.err." + member
		}
		if !u.o.Catalogue.Has(key) {
			key = "adminconf.policy.err.invalid"
		}
		fe := fieldError{Field: ruleField(row.Index, member), Message: l.T("adminconf.policy.err.rule", at[i]+1, l.T(key))}
		if row.Err == nil {
			row.Err = map[string]*fieldError{}
		}
		if _, dup := row.Err[member]; !dup {
			row.Err[member] = &fe
			out = append(out, fe)
		}
	}
	return out, nil
}
