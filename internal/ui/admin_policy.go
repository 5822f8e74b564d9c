package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// policyRuleForm is one rule of the policy form as typed: the form keeps
// every answer on an error.
type policyRuleForm struct {
	Index                                              int // the form row: its fields are rule-<Index>-<member>
	Number                                             int // as people count, from 1
	New                                                bool
	Name, MinSeverity, Significant, PersonalDataBreach string
	After, Action, To, Kind                            string
	RepeatUp, Remove                                   bool
	Err                                                map[string]*fieldError
}

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// policySample is the incident the preview imagines.
type policySample struct {
	Severity, TLP                   string
	Significant, PersonalDataBreach bool
}

// policyStepView is one line of the preview: when, and what.
type policyStepView struct {
	When, What string
}

// policyView is the data of the escalation policy page.
type policyView struct {
	Links        []confLink
	Org          org.Organization
	Action       string
	Rules        []policyRuleForm
	Targets      []option
	Sample       policySample
	Severities   []string
	TLPs         []incident.TLP
	Previewed    bool
	Constituency bool
	Steps        []policyStepView
	UpdatedBy    string
	UpdatedAt    string
	AppliesFrom  string // another organisation's policy governs while this one has no rules
	NoRules      bool
}

// adminPolicy shows an organisation's escalation policy as a form.
func (u *UI) adminPolicy(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	op, err := u.o.Escalations.GetPolicy(ctx, p, c.Param("slug"))
	if err != nil {
		return outOfScope(err)
	}
	rows := make([]policyRuleForm, len(op.Policy.Rules))
	for i, rd := range op.Policy.Document().Rules {
		rows[i] = ruleFormOf(i, rd)
	}
	pg := u.newPage(c, "admin_policy", "adminconf.policy.title", op.Org.Name)
	v, err := u.policyView(c, pg.L, p, op, rows, policySample{Severity: string(incident.High), TLP: string(incident.TLPAmber)})
	if err != nil {
		return err
	}
	if c.QueryParam("saved") == "1" {
		pg.Notice = pg.L.T("adminconf.policy.saved")
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}

// policyView builds the page's data around the rows as typed (with one
// empty row for a new rule).
func (u *UI) policyView(c echo.Context, l i18n.Locale, p access.Principal, op *escalation.OrgPolicy, rows []policyRuleForm, sample policySample) (*policyView, error) {
	v := &policyView{Links: confLinks(p, "/admin/organisations/"+p.OrgSlug+"/escalation-policy"), Org: op.Org,
		Action: "/admin/organisations/" + op.Org.Slug + "/escalation-policy", Sample: sample,
		Severities: []string{"low", "medium", "high", "critical"},
		TLPs:       []incident.TLP{incident.TLPClear, incident.TLPGreen, incident.TLPAmber, incident.TLPAmberStrict, incident.TLPRed}}
	if op.Policy.UpdatedBy != "" {
		v.UpdatedBy, v.UpdatedAt = op.Policy.UpdatedBy, l.DateTime(op.Policy.UpdatedAt)
	}
	v.NoRules = len(op.Policy.Rules) == 0
	if v.NoRules && op.AppliesFrom != nil && op.AppliesFrom.ID != op.Org.ID {
		v.AppliesFrom = op.AppliesFrom.Name
	}
	if len(rows) < escalation.MaxRules {
		rows = append(rows, policyRuleForm{Index: nextIndex(rows), New: true, Action: string(escalation.ActionEscalate),
			To: escalation.ToParent, Kind: string(escalation.Assist)})
	}
	for i := range rows {
		rows[i].Number = i + 1
		if rows[i].Err == nil {
			rows[i].Err = map[string]*fieldError{}
		}
	}
	v.Rules = rows
	orgs, err := u.o.Orgs.List(c.Request().Context(), p.OrgActor())
	if err != nil {
		return nil, err
	}
	v.Targets = []option{{Value: escalation.ToParent, Label: l.T("adminconf.policy.to_parent")},
		{Value: escalation.ToNational, Label: l.T("adminconf.policy.to_national")}}
	for _, o := range orgs {
		if o.Kind.IsCERT() || o.Kind == org.Partner {
			v.Targets = append(v.Targets, option{Value: o.Slug, Label: o.Name})
		}
	}
	return v, nil
}

// nextIndex is the form row of a new rule: after every row shown.
func nextIndex(rows []policyRuleForm) int {
	n := 0
	for _, r := range rows {
		if r.Index >= n {
			n = r.Index + 1
		}
	}
	return n
}

// ruleFormOf shows a stored rule in the form.
func ruleFormOf(i int, rd escalation.RuleDocument) policyRuleForm {
	tri := func(b *bool) string {
		switch {
		case b == nil:
			return ""
		case *b:
			return "yes"
		}
		return "no"
	}
	return policyRuleForm{Index: i, Name: rd.Name, MinSeverity: rd.When.MinSeverity, Significant: tri(rd.When.Significant),
		PersonalDataBreach: tri(rd.When.PersonalDataBreach), After: rd.UnacknowledgedFor, Action: rd.Action, To: rd.To,
		Kind: rd.Kind, RepeatUp: rd.RepeatUp}
}

// policyStepOf writes one step of the preview in the reader's language.
func policyStepOf(l i18n.Locale, s escalation.Step) policyStepView {
	when := l.T("adminconf.preview.at_once")
	if s.After > 0 {
		when = l.T("adminconf.preview.after", l.Duration(s.After))
	}
	key := "adminconf.preview.notify"
	if s.Action == escalation.ActionEscalate {
		key = "adminconf.preview.escalate_" + string(s.Kind)
	}
	what := l.T(key, s.To.Name)
	if s.Level > 1 {
		what += " " + l.T("adminconf.preview.level", s.Rule, s.Level)
	} else {
		what += " " + l.T("adminconf.preview.rule", s.Rule)
	}
	return policyStepView{When: when, What: what}
}

// ruleField is the form's id of a member of the rule in row i.
func ruleField(i int, member string) string {
	if j := strings.LastIndexByte(member, '.'); j >= 0 {
		member = member[j+1:]
	}
	return "rule-" + strconv.Itoa(i) + "-" + member
}
