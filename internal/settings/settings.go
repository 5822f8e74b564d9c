// Package settings holds a person's own settings of the web UI: the
// language, the time zone and the colour theme. A user who never chose
// gets the defaults: the browser's language, the organisation's time zone
// and the system's theme.
package settings

import (
	"context"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// Theme is the colour theme of the web UI.
type Theme string

// The themes. System follows the operating system's light or dark mode.
const (
	System Theme = "system"
	Light  Theme = "light"
	Dark   Theme = "dark"
)

// Themes lists the themes.
var Themes = []Theme{System, Light, Dark}

// Shortcuts says whether the web UI's single-key shortcuts (the triage
// queue's j, k, x, a, e, / and ?) are on. WCAG 2.1.4 asks that people can
// switch them off.
type Shortcuts string

// The shortcut settings. RoleDefault follows the person's role: on for the
// CERTs' responders, coordinators and administrators, who work the queue,
// off for everyone else.
const (
	RoleDefault  Shortcuts = ""
	ShortcutsOn  Shortcuts = "on"
	ShortcutsOff Shortcuts = "off"
)

// Settings are one user's choices. Empty Language and TimeZone mean the
// defaults (the browser's language, the organisation's time zone).
type Settings struct {
	Language  string // a language of the catalogue ("en", "de"), or ""
	TimeZone  string // an IANA time zone ("Europe/Berlin"), or ""
	Theme     Theme
	Shortcuts Shortcuts
	// Email says the person gets their organisation's notifications by
	// e-mail too, at their own address (docs/email.md); never for
	// TLP:RED incidents.
	Email bool
}

// ShortcutsFor reports whether single-key shortcuts are on for a person
// of role in an organisation that is a CERT (cert) or not.
func (s Settings) ShortcutsFor(role access.Role, cert bool) bool {
	switch s.Shortcuts {
	case ShortcutsOn:
		return true
	case ShortcutsOff:
		return false
	}
	return cert && (role == access.Responder || role == access.Coordinator || role == access.Admin)
}

// Validate checks the settings against the languages the UI speaks and
// names every field that breaks a rule. An empty theme becomes System.
func (s *Settings) Validate(languages []string) error {
	var fs apperr.Fields
	if s.Language != "" && !slices.Contains(languages, s.Language) {
		fs.Add("language", "enum", "language must be one of the languages offered")
	}
	if s.TimeZone != "" {
		if len(s.TimeZone) > 64 {
			fs.Add("time_zone", "enum", "time_zone must be an IANA time zone such as Europe/Berlin")
		} else if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "Local" {
			fs.Add("time_zone", "enum", "time_zone must be an IANA time zone such as Europe/Berlin")
		}
	}
	if s.Theme == "" {
		s.Theme = System
	}
	if !slices.Contains(Themes, s.Theme) {
		fs.Add("theme", "enum", "theme must be system, light or dark")
	}
	if s.Shortcuts != RoleDefault && s.Shortcuts != ShortcutsOn && s.Shortcuts != ShortcutsOff {
		fs.Add("shortcuts", "enum", "shortcuts must be on, off or empty (the role's default)")
	}
	return fs.Err()
}

// Store keeps the settings.
type Store interface {
	// Settings returns the user's settings; the defaults when none are stored.
	Settings(ctx context.Context, userID uuid.UUID) (Settings, error)
	// SaveSettings stores the user's settings.
	SaveSettings(ctx context.Context, userID uuid.UUID, s Settings) error
}

// Service holds the settings use cases.
type Service struct {
	store     Store
	languages []string
}

// NewService returns a Service for a UI that speaks languages.
func NewService(store Store, languages []string) *Service {
	return &Service{store: store, languages: languages}
}

// Get returns the principal's own settings.
func (s *Service) Get(ctx context.Context, p access.Principal) (Settings, error) {
	if p.System || p.UserID == uuid.Nil {
		return Settings{Theme: System}, nil
	}
	return s.store.Settings(ctx, p.UserID)
}

// Save validates and stores the principal's own settings. Nobody changes
// another person's settings.
func (s *Service) Save(ctx context.Context, p access.Principal, in Settings) (Settings, error) {
	if p.System || p.UserID == uuid.Nil {
		return Settings{}, apperr.New(apperr.Forbidden, "only people have settings")
	}
	if err := in.Validate(s.languages); err != nil {
		return Settings{}, err
	}
	if err := s.store.SaveSettings(ctx, p.UserID, in); err != nil {
		return Settings{}, err
	}
	return in, nil
}

// SetLanguage changes only the principal's language (the language switch
// on every page).
func (s *Service) SetLanguage(ctx context.Context, p access.Principal, lang string) (Settings, error) {
	cur, err := s.Get(ctx, p)
	if err != nil {
		return Settings{}, err
	}
	cur.Language = lang
	return s.Save(ctx, p, cur)
}
