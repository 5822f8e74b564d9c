package misp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/observable"
)

// TestParseReadsBackTheExport: the export parsed gives the incident's TLP,
// RSIT class and type, tags, and one candidate per observable.
func TestParseReadsBackTheExport(t *testing.T) {
	t.Parallel()
	exp := sample(t)
	body, err := misp.Encode(exp)
	require.NoError(t, err)
	p, err := misp.Parse(body)
	require.NoError(t, err)
	require.Equal(t, exp.Incident.ID.String(), p.UUID)
	require.Equal(t, incident.TLPAmber, p.TLP)
	require.Equal(t, incident.PAPGreen, p.PAP, "the PAP: tag maps back")
	require.Equal(t, "malicious-code", p.Category)
	require.Equal(t, "infected-system", p.Type)
	require.Equal(t, []string{"ransomware"}, p.Tags)
	got := map[observable.Type]string{}
	for _, a := range p.Attributes {
		cands, reason := misp.Candidates(a)
		if reason != "" {
			require.Equal(t, misp.SkipReference, reason)
			continue
		}
		require.Len(t, cands, 1)
		got[cands[0].Type] = cands[0].Value
	}
	for _, o := range exp.Observables {
		require.Equal(t, o.Value, got[o.Type], o.Type)
	}
}

func TestParseLenient(t *testing.T) {
	t.Parallel()
	// The event alone, numbers where strings are usual, an object's
	// attributes, a deleted object.
	p, err := misp.Parse([]byte(`{"info":"x","distribution":0,"Tag":[{"name":"tlp:white"},{"name":"rsit:nonsense"}],
		"Attribute":[{"type":"ip-dst|port","value":"2001:db8::1|443","deleted":0}],
		"Object":[{"Attribute":[{"type":"sha1","value":"da39a3ee5e6b4b0d3255bfef95601890afd80709"}]},
		          {"deleted":true,"Attribute":[{"type":"md5","value":"d41d8cd98f00b204e9800998ecf8427e"}]}]}`))
	require.NoError(t, err)
	require.Equal(t, incident.TLPClear, p.TLP)
	require.Empty(t, p.Category, "an RSIT tag the taxonomy does not know")
	require.Equal(t, []string{"rsit:nonsense"}, p.Tags, "an unknown RSIT tag stays a tag")
	require.Len(t, p.Attributes, 2)
	c, _ := misp.Candidates(p.Attributes[0])
	require.Equal(t, observable.IPv6, c[0].Type)
	require.Equal(t, "2001:db8::1", c[0].Value)

	for _, bad := range []string{`[]`, `"x"`, `{}`, `{"Event":{}}`, `nope`} {
		_, err := misp.Parse([]byte(bad))
		require.Error(t, err, bad)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Event":{"info":"x","Attribute":[{"type":"domain","value":"a.example","Tag":[{"name":"tlp:red"}]}]}}`))
	f.Add([]byte(`{"info":1,"Object":[{"Attribute":[{"type":"filename|md5","value":"a|b"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := misp.Parse(data)
		if err != nil {
			return
		}
		for _, a := range p.Attributes {
			cands, _ := misp.Candidates(a)
			for _, c := range cands {
				_ = c.Validate()
			}
		}
	})
}

// TestPAPTags: the PAP taxonomy's tags map back to labels in any case,
// PAP:WHITE as CLEAR; a PAP: tag the taxonomy does not know stays a tag.
func TestPAPTags(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]incident.PAP{"PAP:RED": incident.PAPRed, "pap:amber": incident.PAPAmber,
		"PAP:GREEN": incident.PAPGreen, "PAP:CLEAR": incident.PAPClear, "PAP:WHITE": incident.PAPClear} {
		got, ok := misp.PAPOfTag(tag)
		require.True(t, ok, tag)
		require.Equal(t, want, got, tag)
	}
	for _, tag := range []string{"PAP:PURPLE", "tlp:red", "red"} {
		_, ok := misp.PAPOfTag(tag)
		require.False(t, ok, tag)
	}
	for _, p := range incident.PAPs {
		require.Equal(t, string(p), misp.PAPTag(p).Name, "the tag is the label as the taxonomy spells it")
	}
	p, err := misp.Parse([]byte(`{"Event":{"info":"x","Tag":[{"name":"PAP:PURPLE"},{"name":"pap:white"}],
		"Attribute":[{"type":"ip-dst","value":"198.51.100.9","Tag":[{"name":"PAP:RED"}]}]}}`))
	require.NoError(t, err)
	require.Equal(t, incident.PAPClear, p.PAP)
	require.Equal(t, []string{"PAP:PURPLE"}, p.Tags)
	require.Equal(t, []string{"PAP:RED"}, p.Attributes[0].Tags)
}
