package incident

import "time"

// View is an incident as a person is shown it, by the API or the web
// interface alike: the incident with its description's HTML current, and
// its legal deadlines with the time left at one moment, computed in the
// reporting organisation's time zone. Transports render a View; they
// compute nothing of it themselves.
type View struct {
	Incident
	// Location is the reporting organisation's time zone
	// (Incident.Location): calendar deadlines run in it, and it is the
	// default zone to show the organisation's people times in.
	Location *time.Location
	// At is the moment the deadlines' time left was computed at.
	At time.Time
	// Deadlines are the legal deadlines at At (Incident.Deadlines).
	Deadlines []Deadline
}

// View returns the view of inc now (the service's clock).
func (s *Service) View(inc *Incident) View { return s.view(inc, s.now()) }

// Views returns the views of a list of incidents, all at the same moment,
// so that the deadlines of one page agree with each other.
func (s *Service) Views(incs []Incident) []View {
	now := s.now()
	out := make([]View, len(incs))
	for i := range incs {
		out[i] = s.view(&incs[i], now)
	}
	return out
}

// view builds the view of inc at now. A description stored by an older
// renderer (or before there was one: Renderer's RenderVersion differs) is
// rendered again; the stored row is not changed.
func (s *Service) view(inc *Incident, now time.Time) View {
	v := View{Incident: *inc, Location: inc.Location(), At: now}
	if s.Renderer != nil && inc.Description != "" && inc.DescriptionHTMLVersion != s.RenderVersion {
		v.DescriptionHTML, v.DescriptionHTMLVersion = s.Renderer(inc.Description), s.RenderVersion
	}
	v.Deadlines = inc.Deadlines(v.Location, now)
	return v
}
