package playbook

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/certdesk/certdesk/internal/incident"
)

// The actions a step may take.
const (
	ActionTaskCreate = "task.create"
	ActionNotify     = "notify"
	ActionEscalate   = "escalate"
	ActionSet        = "set"
	ActionWait       = "wait"
	ActionApproval   = "approval"
	ActionInput      = "input"
	ActionWebhook    = "webhook"
)

// Roles lists the roles task.create and approval may name.
var Roles = []string{"reporter", "responder", "coordinator", "viewer", "admin"}

// The symbolic recipients of notify and escalate besides an organisation slug.
const (
	ToReportingOrg    = "reporting_org"
	ToCoordinatingOrg = "coordinating_org"
	ToParent          = "parent"
)

// The events a wait may wait for besides a duration.
const (
	WaitAcknowledgement = "acknowledgement"
	WaitTaskDonePrefix  = "task_done:"
	WaitStagePrefix     = "stage:"
)

type kind int

const (
	kString     kind = iota // non-empty string
	kText                   // string, may be empty
	kDuration               // duration string
	kEnum                   // one of enum
	kTemplate               // template name
	kNotifyTo               // reporting_org|coordinating_org|parent|<slug>
	kEscalateTo             // parent|<slug>
	kTags                   // list of tags
	kFlags                  // {personal_data_breach, significant} booleans
	kWaitFor                // duration or event
	kSchema                 // JSON Schema object
	kURL                    // absolute http(s) URL
	kAny                    // any YAML value
)

type param struct {
	name     string
	kind     kind
	required bool
	enum     []string
}

func severityNames() []string {
	s := make([]string, len(incident.Severities))
	for i, v := range incident.Severities {
		s[i] = string(v)
	}
	return s
}

// actionParams is each action's parameters.
var actionParams = map[string][]param{
	ActionTaskCreate: {
		{name: "title", kind: kString, required: true},
		{name: "description", kind: kText},
		{name: "assignee_role", kind: kEnum, enum: Roles},
		{name: "due", kind: kDuration},
	},
	ActionNotify: {
		{name: "to", kind: kNotifyTo, required: true},
		{name: "template", kind: kTemplate, required: true},
	},
	ActionEscalate: {
		{name: "to", kind: kEscalateTo, required: true},
		{name: "kind", kind: kEnum, enum: []string{"coordinate", "assist"}},
		{name: "reason", kind: kString, required: true},
	},
	ActionSet: {
		{name: "severity", kind: kEnum, enum: severityNames()},
		{name: "stage", kind: kEnum, enum: stageNames()},
		{name: "tags", kind: kTags},
		{name: "flags", kind: kFlags},
		{name: "assignee", kind: kString},
	},
	ActionWait: {
		{name: "for", kind: kWaitFor, required: true},
		{name: "timeout", kind: kDuration},
	},
	ActionApproval: {
		{name: "role", kind: kEnum, required: true, enum: Roles},
		{name: "prompt", kind: kString, required: true},
	},
	ActionInput: {
		{name: "schema", kind: kSchema, required: true},
		{name: "prompt", kind: kString, required: true},
	},
	ActionWebhook: {
		{name: "url", kind: kURL, required: true},
		{name: "body", kind: kAny},
	},
}

func actionNames() []string {
	return []string{ActionTaskCreate, ActionNotify, ActionEscalate, ActionSet, ActionWait, ActionApproval, ActionInput, ActionWebhook}
}

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	templatePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)
	tagPattern      = regexp.MustCompile(`^[^\s,]{1,64}$`)
)

// params checks a step's with against its action and returns it as plain values.
func (p *parser) params(pb *Playbook, s *Step, with, stepNode *yaml.Node) map[string]any {
	specs := actionParams[s.Action]
	if with == nil {
		for _, sp := range specs {
			if sp.required {
				p.errorf(stepNode, "%s: missing required parameter %q in with", s.Action, sp.name)
			}
		}
		if s.Action == ActionSet {
			p.errorf(stepNode, "set: with must name at least one of severity, stage, tags, flags, assignee")
		}
		return nil
	}
	fields := map[string]func(k, v *yaml.Node){}
	what := s.Action + " parameters"
	var required []string
	for _, sp := range specs {
		fields[sp.name] = func(_, v *yaml.Node) { p.param(pb, s, sp, v) }
		if sp.required {
			required = append(required, sp.name)
		}
	}
	got := p.mapping(with, what, fields, required...)
	if got == nil {
		return nil
	}
	if s.Action == ActionSet && len(got) == 0 {
		p.errorf(with, "set: with must name at least one of severity, stage, tags, flags, assignee")
	}
	if s.Action == ActionWait {
		p.waitTimeout(with)
	}
	m, _ := value(with).(map[string]any)
	return m
}

func (p *parser) param(pb *Playbook, s *Step, sp param, v *yaml.Node) {
	name := s.Action + " " + sp.name
	switch sp.kind {
	case kString:
		p.str(v, name, true)
	case kText:
		p.str(v, name, false)
	case kDuration:
		p.duration(v, name)
	case kEnum:
		p.enum(v, name, sp.enum)
	case kTemplate:
		if t := p.str(v, name, true); t != "" && !templatePattern.MatchString(t) {
			p.errorf(v, "%s %q must be a template name (lower-case letters, digits, '_', '.', '-')", name, t)
		}
	case kNotifyTo, kEscalateTo:
		to := p.str(v, name, true)
		symbolic := []string{ToParent}
		if sp.kind == kNotifyTo {
			symbolic = []string{ToReportingOrg, ToCoordinatingOrg, ToParent}
		}
		if to != "" && !slices.Contains(symbolic, to) && !slugPattern.MatchString(to) {
			p.errorf(v, "%s %q must be %s or an organisation slug", name, to, strings.Join(symbolic, ", "))
		}
	case kTags:
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			p.errorf(v, "%s must be a non-empty list of tags", name)
			return
		}
		for _, e := range v.Content {
			if t := p.str(e, name+" entry", true); t != "" && !tagPattern.MatchString(t) {
				p.errorf(e, "%s entry %q must be 1 to 64 characters without spaces or commas", name, t)
			}
		}
	case kFlags:
		got := p.mapping(v, name, map[string]func(k, v *yaml.Node){
			"personal_data_breach": func(_, v *yaml.Node) { p.boolean(v, name+".personal_data_breach") },
			"significant":          func(_, v *yaml.Node) { p.boolean(v, name+".significant") },
		})
		if got != nil && len(got) == 0 {
			p.errorf(v, "%s must name personal_data_breach or significant", name)
		}
	case kWaitFor:
		p.waitFor(pb, v, name)
	case kSchema:
		p.schema(v, name)
	case kURL:
		raw := p.str(v, name, true)
		if raw == "" {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			p.errorf(v, "%s %q must be an absolute http or https URL", name, raw)
		}
	case kAny:
	}
}

func (p *parser) boolean(v *yaml.Node, what string) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		p.errorf(v, "%s must be true or false", what)
	}
}

// waitFor checks a wait's for: a duration, acknowledgement,
// task_done:<task.create step id> or stage:<stage>.
func (p *parser) waitFor(pb *Playbook, v *yaml.Node, what string) {
	f := p.str(v, what, true)
	switch {
	case f == "":
	case f == WaitAcknowledgement:
	case strings.HasPrefix(f, WaitTaskDonePrefix):
		id := strings.TrimPrefix(f, WaitTaskDonePrefix)
		st := pb.Step(id)
		switch {
		case st == nil:
			p.errorf(v, "%s %q: there is no step %q", what, f, id)
		case st.Action != ActionTaskCreate:
			p.errorf(v, "%s %q: step %q is a %s, not a task.create", what, f, id, st.Action)
		}
	case strings.HasPrefix(f, WaitStagePrefix):
		st := strings.TrimPrefix(f, WaitStagePrefix)
		if !incident.Stage(st).Valid() {
			p.errorf(v, "%s %q: stage %q is not one of: %s", what, f, st, strings.Join(stageNames(), ", "))
		}
	default:
		if _, err := ParseDuration(f); err != nil {
			p.errorf(v, "%s %q must be a duration (30m, 2h, 3d), acknowledgement, task_done:<step id> or stage:<stage>", what, f)
		}
	}
}

// waitTimeout requires a timeout on a wait for an event, and refuses one on
// a wait for a duration.
func (p *parser) waitTimeout(with *yaml.Node) {
	var forNode, timeoutNode *yaml.Node
	for i := 0; i+1 < len(with.Content); i += 2 {
		switch with.Content[i].Value {
		case "for":
			forNode = with.Content[i+1]
		case "timeout":
			timeoutNode = with.Content[i]
		}
	}
	if forNode == nil || forNode.Tag != "!!str" {
		return
	}
	if _, err := ParseDuration(forNode.Value); err == nil {
		if timeoutNode != nil {
			p.errorf(timeoutNode, "wait timeout: a wait for a duration takes no timeout")
		}
		return
	}
	if timeoutNode == nil {
		p.errorf(forNode, "wait: a wait for an event needs a timeout")
	}
}

// schema checks that v is a JSON Schema object that compiles.
func (p *parser) schema(v *yaml.Node, what string) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "%s must be a JSON Schema object", what)
		return
	}
	doc, err := jsonValue(value(v))
	if err != nil {
		p.errorf(v, "%s: %v", what, err)
		return
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource("urn:certdesk:input", doc); err != nil {
		p.errorf(v, "%s: %v", what, err)
		return
	}
	if _, err := c.Compile("urn:certdesk:input"); err != nil {
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), `"urn:certdesk:input#" is not valid against metaschema: `, "")), " ")
		p.errorf(v, "%s is not a valid JSON Schema: %s", what, msg)
	}
}

// noLoader refuses to fetch referenced schemas: input schemas are self-contained.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("external schema references are not allowed (%s)", u)
}

// jsonValue converts YAML-decoded values to the JSON model the schema
// library expects (float64/json.Number numbers, map[string]any objects).
func jsonValue(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			j, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = j
		}
		return m, nil
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			j, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = j
		}
		return l, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float64, string, bool, nil:
		return x, nil
	default:
		return nil, fmt.Errorf("value %v cannot be represented in JSON", x)
	}
}

// InputSchema compiles the JSON Schema of an input step (its with.schema),
// which the validator has already checked.
func InputSchema(s *Step) (*jsonschema.Schema, error) {
	doc, err := jsonValue(s.With["schema"])
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource("urn:certdesk:input", doc); err != nil {
		return nil, err
	}
	return c.Compile("urn:certdesk:input")
}
