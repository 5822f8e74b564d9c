package audit

// The audited actions of people signing in to the web UI
// (internal/session). They sit apart from the list in audit.go only to
// keep the two areas' changes apart.
const (
	// SignIn is a successful sign-in: a new session.
	SignIn Action = "signin"
	// SignInFailed is a refused e-mail and password (not one refused by
	// the throttle before it was checked).
	SignInFailed Action = "signin.failed"
	// SessionEnded is the end of one or more sessions: signing out, ending
	// a session from the sessions page, or ending all of a user's sessions.
	SessionEnded Action = "session.ended"
	// SecondFactorPassed is a session's check of a second factor (at
	// sign-in, or again before a sensitive action); its data names the
	// factor.
	SecondFactorPassed Action = "signin.second_factor"
)
