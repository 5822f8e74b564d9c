package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DemoPassword is the password of every demo user (<role>@<org>.demo). It
// is public: never seed the demo into a database that holds real data.
const DemoPassword = "lighthouse-harbour-2026"

// DemoTokenName names the API tokens the demo issues on every run.
const DemoTokenName = "demo"

// demoLockKey serialises concurrent seeders (two replicas starting with
// --demo) with a PostgreSQL advisory lock.
const demoLockKey = 0x6364_646d_6f00 // "cddmo"

func demoCmd(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "demo", "",
		"Seeds a demo directory into the database: a national CERT, two regional CERTs,\n"+
			"three cities, a water utility and a foreign partner CERT; one user of every\n"+
			"role in each (<role>@<org>.demo, password "+DemoPassword+"), each CERT's\n"+
			"responder being its TLP:RED recipient; and a dozen incidents. Running it\n"+
			"again creates nothing twice and issues fresh API tokens.\n"+
			"The incidents are routed by the workers of 'certdesk serve' (this command\n"+
			"starts none). 'certdesk serve --demo' seeds and serves in one go.")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if err := noArgs(env, "demo", fs.Args()); err != nil {
		return err
	}
	return withOperatorApp(ctx, env, func(ctx context.Context, cfg config.Config, a *App) error {
		if err := a.SeedDemo(ctx, env.Stdout, cfg.BaseURL); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "\nThe incidents are routed to their CERTs once 'certdesk serve' (or 'certdesk worker') runs.")
		return nil
	})
}

// demoOrg is one organisation of the demo directory.
type demoOrg struct {
	org.Organization
	parent string
}

// demoOrgs is the demo directory, parents before children.
var demoOrgs = []demoOrg{
	{org.Organization{Slug: "national-cert", Name: "National CERT", Kind: org.NationalCERT, Country: "DE",
		Sector: "public-administration", ContactEmail: "cert@national-cert.demo", ContactPhone: "+49 30 5550 1000", ChatChannel: "C0NATCERT01",
		TimeZone: "Europe/Berlin"}, ""},
	{org.Organization{Slug: "cert-north", Name: "CERT North (regional)", Kind: org.RegionalCERT, Country: "DE", Region: "North",
		Sector: "public-administration", ContactEmail: "cert@cert-north.demo", ContactPhone: "+49 40 5550 2000", ChatChannel: "C0CERTNRTH1",
		TimeZone: "Europe/Berlin"}, "national-cert"},
	{org.Organization{Slug: "cert-south", Name: "CERT South (regional)", Kind: org.RegionalCERT, Country: "DE", Region: "South",
		Sector: "public-administration", ContactEmail: "cert@cert-south.demo", ContactPhone: "+49 89 5550 3000", ChatChannel: "C0CERTSTH01",
		TimeZone: "Europe/Berlin"}, "national-cert"},
	{org.Organization{Slug: "city-northbridge", Name: "City of Northbridge", Kind: org.LocalAuthority, Country: "DE", Region: "North",
		Sector: "public-administration", ContactEmail: "it-security@city-northbridge.demo", ContactPhone: "+49 421 5550 4000", ChatChannel: "C0NORTHBRG1",
		TimeZone: "Europe/Berlin"}, "cert-north"},
	{org.Organization{Slug: "city-harbourton", Name: "Town of Harbourton", Kind: org.LocalAuthority, Country: "DE", Region: "North",
		Sector: "public-administration", ContactEmail: "it@city-harbourton.demo", ContactPhone: "+49 471 5550 5000", ChatChannel: "C0HARBOURT1",
		TimeZone: "Europe/Berlin"}, "cert-north"},
	{org.Organization{Slug: "city-southvale", Name: "City of Southvale", Kind: org.LocalAuthority, Country: "DE", Region: "South",
		Sector: "public-administration", ContactEmail: "it-security@city-southvale.demo", ContactPhone: "+49 821 5550 6000", ChatChannel: "C0SOUTHVAL1",
		TimeZone: "Europe/Berlin"}, "cert-south"},
	{org.Organization{Slug: "north-water", Name: "North Water Utility", Kind: org.Operator, Country: "DE", Region: "North",
		Sector: "drinking-water", NIS2Class: org.Essential, ContactEmail: "soc@north-water.demo", ContactPhone: "+49 441 5550 7000", ChatChannel: "C0NWATER001",
		TimeZone: "Europe/Berlin"}, "cert-north"},
	{org.Organization{Slug: "partner-cert", Name: "Partner CERT (neighbouring country)", Kind: org.Partner, Country: "NL",
		ContactEmail: "cert@partner-cert.demo", ContactPhone: "+31 70 5550 8000", ChatChannel: "C0PARTNER01",
		TimeZone: "Europe/Amsterdam"}, ""},
}

// demoEmail is the e-mail of the demo user with role in the organisation slug.
func demoEmail(role access.Role, slug string) string { return string(role) + "@" + slug + ".demo" }

// demoIncident is one demo incident, reported by the reporter of org.
type demoIncident struct {
	org         string
	title       string
	description string
	stage       incident.Stage
	severity    incident.Severity
	tlp         incident.TLP
	detectedAgo time.Duration
	// category and typ are the RSIT classification; with tags and the
	// flags they decide which playbook triggers (docs/playbooks.md).
	category, typ string
	tags          []string
	personalData  bool
	significant   bool
	shareWith     string   // shared with this organisation by the coordinator of the CERT above the reporter
	participate   []string // e-mails of named participants besides the reporter (for TLP:RED)
	// conversation: when the incident is created, the CERT above its
	// reporter comments and asks for things, and the reporter answers
	// (seedDemoConversation), so that the incident page has a story.
	conversation bool
}

// demoIncidents are the demo's incidents. The title of each is unique in
// its reporting organisation: that is how a later run recognises it.
var demoIncidents = []demoIncident{
	{org: "city-northbridge", title: "Ransomware encrypted file servers at city hall",
		description: "At 06:40 staff found files on the city hall file servers renamed to `*.lockbit` and a ransom note " +
			"(`README-RESTORE.txt`) on every share. Two of the four file servers are affected; the registry office " +
			"and the building authority cannot work.\n\n" +
			"- affected hosts isolated from the network at 07:15\n" +
			"- backups of last night are on offline tape, not yet verified\n" +
			"- no ransom contact made",
		stage: incident.Response, severity: incident.Critical, tlp: incident.TLPAmber, detectedAgo: 5 * time.Hour,
		category: "malicious-code", typ: "infected-system", tags: []string{"ransomware", "lockbit"},
		significant: true, conversation: true}, // playbook ransomware
	{org: "city-harbourton", title: "Phishing campaign against council staff",
		description: "Since Monday about 60 council staff received e-mails imitating the payroll provider " +
			"(\"Your salary statement is ready\") linking to a credential-harvesting page. Three people entered " +
			"their passwords; their accounts were reset and MFA re-enrolled.\n\n" +
			"Indicators: sender domain `payroll-portal-secure.example`, landing page on a compromised WordPress site.",
		stage: incident.Response, severity: incident.Medium, tlp: incident.TLPGreen, detectedAgo: 2 * 24 * time.Hour,
		category: "fraud", typ: "phishing", tags: []string{"phishing", "credential-harvesting"}, // playbook phishing-campaign
		shareWith: "partner-cert"},
	{org: "city-southvale", title: "DDoS on the citizen services portal",
		description: "The citizen services portal (appointments, forms, payments) is unreachable since 09:10: " +
			"about 40 Gbit/s of UDP reflection traffic against its public address. The hosting provider's scrubbing " +
			"is being switched on.",
		stage: incident.Response, severity: incident.High, tlp: incident.TLPGreen, detectedAgo: 3 * time.Hour,
		category: "availability", typ: "ddos", tags: []string{"ddos", "udp-reflection"}}, // playbook ddos
	{org: "city-harbourton", title: "Defaced town website",
		description: "The town's public website showed a political message instead of the home page for about " +
			"two hours. Cause: an outdated CMS plugin with a known file-upload vulnerability. The site was restored " +
			"from backup and the plugin removed; monitoring continues.",
		stage: incident.Recovery, severity: incident.Medium, tlp: incident.TLPClear, detectedAgo: 6 * 24 * time.Hour,
		category: "intrusions", typ: "application-compromise", tags: []string{"defacement", "cms"}}, // playbook defacement
	{org: "city-southvale", title: "Data leak of resident registration records",
		description: "An export of the resident registry (names, addresses, dates of birth of about 12,000 residents) " +
			"was found on a publicly readable storage bucket used by a contractor for a data migration. The bucket " +
			"was closed; access logs are requested from the provider. A personal data breach report to the " +
			"supervisory authority is being prepared (GDPR Art. 33, 72 hours).",
		stage: incident.Response, severity: incident.High, tlp: incident.TLPAmberStrict, detectedAgo: 20 * time.Hour,
		category: "information-content-security", typ: "data-leak", tags: []string{"gdpr", "cloud-storage"},
		personalData: true}, // playbook personal-data-breach
	{org: "north-water", title: "Vulnerable VPN appliance advisory (remote access gateway)",
		description: "The vendor of our remote-access VPN appliance published a critical pre-authentication " +
			"vulnerability that is being exploited in the wild. Our gateway runs an affected version. No sign of " +
			"compromise so far; the patch is scheduled for tonight's maintenance window, and the mitigation from " +
			"the advisory is applied.",
		stage: incident.Prevention, severity: incident.High, tlp: incident.TLPAmber, detectedAgo: 26 * time.Hour,
		category: "vulnerable", typ: "vulnerable-system", tags: []string{"vpn", "exploited"}}, // playbook vulnerability-advisory
	{org: "north-water", title: "Unexpected remote session on an OT engineering workstation",
		description: "The OT monitoring flagged an interactive remote session on an engineering workstation of the " +
			"treatment plant outside working hours. No process changes were observed. The workstation is kept " +
			"running for forensics; the control network's remote access is switched off.",
		stage: incident.Preparation, severity: incident.Critical, tlp: incident.TLPRed, detectedAgo: 90 * time.Minute,
		participate: []string{demoEmail(access.Responder, "north-water"), demoEmail(access.Responder, "cert-north")}},
	{org: "north-water", title: "Credential stuffing against the customer billing portal",
		description: "About 180,000 login attempts in four hours from residential proxies against the customer " +
			"billing portal; 35 accounts were logged into successfully and have been locked. Rate limiting tightened.",
		stage: incident.Response, severity: incident.Medium, tlp: incident.TLPAmber, detectedAgo: 30 * time.Hour},
	{org: "city-northbridge", title: "Business e-mail compromise of the treasury mailbox",
		description: "A supplier reported that an invoice e-mail from our treasury asked for payment to a new bank " +
			"account. The treasury mailbox had a forwarding rule to an external address, created after a sign-in " +
			"from an unusual location. One payment of EUR 48,000 may be affected; the bank was asked to recall it.",
		stage: incident.Response, severity: incident.High, tlp: incident.TLPAmber, detectedAgo: 28 * time.Hour},
	{org: "city-harbourton", title: "Malware on public-access PCs in the town library",
		description: "The antivirus console reported an information stealer on four of the library's public-access " +
			"PCs, probably from a USB stick. The PCs were reimaged; no town network access from these PCs.",
		stage: incident.Recovery, severity: incident.Low, tlp: incident.TLPGreen, detectedAgo: 4 * 24 * time.Hour},
	{org: "city-southvale", title: "Exposed remote desktop on a school administration server",
		description: "An internet scan report shows RDP (3389/tcp) open on a server of the school administration. " +
			"No sign of compromise yet; the firewall rule is to be removed and the server checked for brute-force attempts.",
		stage: incident.Prevention, severity: incident.Medium, tlp: incident.TLPAmber, detectedAgo: 50 * time.Hour},
	{org: "city-northbridge", title: "Lost unencrypted laptop of a social services caseworker",
		description: "A caseworker's laptop was lost on public transport. The disk was not encrypted; it may hold " +
			"case files with special categories of personal data. Remote wipe is pending (the laptop has not " +
			"connected since).",
		stage: incident.Preparation, severity: incident.Medium, tlp: incident.TLPAmber, detectedAgo: 8 * time.Hour},
	{org: "city-southvale", title: "Suspected skimming device on parking payment kiosks",
		description: "Staff found an unknown device attached to the card reader of one parking payment kiosk. All " +
			"kiosks of the car park are switched off until checked; the police have the device.",
		stage: incident.Preparation, severity: incident.Low, tlp: incident.TLPClear, detectedAgo: 10 * time.Hour},
}

// demoTokenHolders are the users who get a fresh API token on every run.
var demoTokenHolders = []struct {
	role access.Role
	org  string
}{
	{access.Reporter, "city-northbridge"},
	{access.Responder, "cert-north"},
	{access.Coordinator, "cert-north"},
	{access.Viewer, "national-cert"},
	{access.Admin, "national-cert"},
	{access.Responder, "partner-cert"},
}

// SeedDemo seeds the demo directory, users and incidents (see the demo
// command) and prints the demo password, fresh API tokens and example
// requests to out. It is idempotent: organisations, users and incidents
// that exist (by slug, e-mail, and reporting organisation and title) are
// left alone; only the tokens are new on every run. baseURL is where the
// API is served, for the examples. It queues the incidents' routing jobs
// and starts no workers.
func (a *App) SeedDemo(ctx context.Context, out io.Writer, baseURL string) error {
	conn, err := a.DB.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("demo: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(demoLockKey)); err != nil {
		return fmt.Errorf("demo: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(demoLockKey))
	}()

	var created struct{ orgs, users, incidents int }
	for _, d := range demoOrgs {
		n, err := a.seedOrg(ctx, d)
		if err != nil {
			return err
		}
		created.orgs += n
	}
	users := map[string]*identity.User{} // by e-mail
	for _, d := range demoOrgs {
		for _, role := range access.Roles {
			u, n, err := a.seedUser(ctx, d.Slug, d.Name, role)
			if err != nil {
				return err
			}
			users[u.Email] = u
			created.users += n
		}
	}
	if err := a.seedDemoPolicy(ctx); err != nil {
		return err
	}
	if err := a.seedDemoRedRecipients(ctx); err != nil {
		return err
	}
	for _, d := range demoIncidents {
		n, err := a.seedIncident(ctx, d, users)
		if err != nil {
			return err
		}
		created.incidents += n
	}

	fmt.Fprintf(out, "Demo data: %d organisations, %d users, %d incidents (new in this run: %d, %d, %d).\n\n",
		len(demoOrgs), len(demoOrgs)*len(access.Roles), len(demoIncidents), created.orgs, created.users, created.incidents)
	fmt.Fprintf(out, "API tokens issued now (name %q, valid %d days; shown only here):\n\n", DemoTokenName, int(identity.DefaultTokenLifetime.Hours()/24))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tORG\tTOKEN")
	var first string
	for _, h := range demoTokenHolders {
		u := users[demoEmail(h.role, h.org)]
		plain, _, err := a.Identity.CreateToken(ctx, access.System, u.ID, DemoTokenName, nil)
		if err != nil {
			return fmt.Errorf("demo: token for %s: %w", u.Email, err)
		}
		if first == "" {
			first = plain
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Role, u.OrgSlug, plain)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	base := strings.TrimRight(baseURL, "/")
	fmt.Fprintf(out, "\nEvery demo user is <role>@<org>.demo (roles: reporter, responder, coordinator, viewer, admin;\n"+
		"orgs: %s).\nDemo password (all demo users): %s\n", demoSlugs(), DemoPassword)
	fmt.Fprintf(out, "\nSign in to the web UI at %s/signin, e.g. as %s or %s.\n",
		strings.TrimRight(baseURL, "/"), demoEmail(access.Reporter, "city-northbridge"), demoEmail(access.Responder, "cert-north"))
	fmt.Fprintf(out, "\nTry the API:\n")
	fmt.Fprintf(out, "  curl -H \"Authorization: Bearer %s\" %s/api/v1/me\n", first, base)
	fmt.Fprintf(out, "  curl -H \"Authorization: Bearer %s\" %s/api/v1/incidents\n", first, base)
	return nil
}

// seedDemoRedRecipients designates each demo CERT's responder as its
// TLP:RED recipient (its duty officer), unless the CERT has recipients
// already: a later run leaves a changed designation alone.
func (a *App) seedDemoRedRecipients(ctx context.Context) error {
	for _, d := range demoOrgs {
		if !d.Kind.IsCERT() {
			continue
		}
		cur, err := a.Incidents.RedRecipients(ctx, access.System, d.Slug)
		if err != nil {
			return fmt.Errorf("demo: TLP:RED recipients of %s: %w", d.Slug, err)
		}
		if len(cur.Designated) > 0 {
			continue
		}
		if _, err := a.Incidents.SetRedRecipients(ctx, access.System, d.Slug, []string{demoEmail(access.Responder, d.Slug)}); err != nil {
			return fmt.Errorf("demo: TLP:RED recipients of %s: %w", d.Slug, err)
		}
	}
	return nil
}

// demoParent returns the slug of the organisation above slug in the demo.
func demoParent(slug string) string {
	for _, d := range demoOrgs {
		if d.Slug == slug {
			return d.parent
		}
	}
	return ""
}

func demoSlugs() string {
	s := make([]string, len(demoOrgs))
	for i, d := range demoOrgs {
		s[i] = d.Slug
	}
	return strings.Join(s, ", ")
}

// seedOrg creates the organisation unless its slug exists; it returns 1
// when it created it.
func (a *App) seedOrg(ctx context.Context, d demoOrg) (int, error) {
	if o, err := a.Store.OrganizationBySlug(ctx, d.Slug); err == nil {
		// Organisations seeded before contact phones existed get theirs.
		if o.ContactPhone == "" && d.ContactPhone != "" {
			if _, err := a.Orgs.Update(ctx, operatorActor, d.Slug, org.Patch{ContactPhone: &d.ContactPhone}); err != nil {
				return 0, fmt.Errorf("demo: set the contact phone of %s: %w", d.Slug, err)
			}
		}
		return 0, nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return 0, fmt.Errorf("demo: look up organisation %s: %w", d.Slug, err)
	}
	o := d.Organization
	if err := a.Orgs.Create(ctx, operatorActor, &o, d.parent); err != nil {
		return 0, fmt.Errorf("demo: create organisation %s: %w", d.Slug, err)
	}
	return 1, nil
}

// seedUser creates the demo user with role in the organisation unless the
// e-mail exists; it returns the user and 1 when it created it.
func (a *App) seedUser(ctx context.Context, slug, orgName string, role access.Role) (*identity.User, int, error) {
	email := demoEmail(role, slug)
	u, err := a.Identity.UserByEmail(ctx, access.System, email)
	if err == nil {
		return u, 0, nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, 0, fmt.Errorf("demo: look up user %s: %w", email, err)
	}
	o, err := a.Store.OrganizationBySlug(ctx, slug)
	if err != nil {
		return nil, 0, fmt.Errorf("demo: look up organisation %s: %w", slug, err)
	}
	name := fmt.Sprintf("Demo %s%s (%s)", strings.ToUpper(string(role[:1])), role[1:], orgName)
	u, err = a.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: email, Name: name, Role: role, Password: DemoPassword})
	if err != nil {
		return nil, 0, fmt.Errorf("demo: create user %s: %w", email, err)
	}
	return u, 1, nil
}

// seedIncident reports the incident as its organisation's reporter unless
// an incident of that organisation has its title, then shares it and names
// its participants (both idempotent, so a run that stopped half-way is
// completed by the next one). It returns 1 when it created the incident.
func (a *App) seedIncident(ctx context.Context, d demoIncident, users map[string]*identity.User) (int, error) {
	reporter := users[demoEmail(access.Reporter, d.org)]
	var id uuid.UUID
	err := a.DB.Pool.QueryRow(ctx, `SELECT i.id FROM incidents i JOIN organizations o ON o.id = i.reporting_org_id
		WHERE o.slug = $1 AND i.title = $2 ORDER BY i.created_at LIMIT 1`, d.org, d.title).Scan(&id)
	created := 0
	if err != nil {
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("demo: look up incident %q: %w", d.title, err)
		}
		detected := time.Now().Add(-d.detectedAgo).UTC().Truncate(time.Minute)
		inc, _, err := a.Incidents.Create(ctx, reporter.Principal(), incident.NewIncident{Title: d.title, Description: d.description,
			Stage: d.stage, Severity: d.severity, TLP: d.tlp, DetectedAt: &detected, Category: d.category, Type: d.typ,
			Tags: d.tags, PersonalDataBreach: d.personalData, Significant: d.significant}, nil)
		if err != nil {
			return 0, fmt.Errorf("demo: report %q: %w", d.title, err)
		}
		id, created = inc.ID, 1
		if d.conversation {
			if err := a.seedDemoConversation(ctx, inc, d.org, users); err != nil {
				return 0, err
			}
		}
	}
	if d.shareWith != "" {
		coordinator := users[demoEmail(access.Coordinator, demoParent(d.org))]
		if _, err := a.Incidents.Share(ctx, coordinator.Principal(), id.String(), d.shareWith,
			"Indicators for cross-border awareness: the same campaign may target your constituency."); err != nil {
			return 0, fmt.Errorf("demo: share %q with %s: %w", d.title, d.shareWith, err)
		}
	}
	for _, email := range d.participate {
		if _, err := a.Incidents.AddParticipant(ctx, access.System, id.String(), email); err != nil {
			return 0, fmt.Errorf("demo: add participant to %q: %w", d.title, err)
		}
	}
	return created, nil
}

// seedDemoConversation gives a new demo incident what a real one has by
// its first morning: the responder of the CERT above the reporter
// comments and asks the reporter for two things, the reporter sends the
// ransom note as evidence, answers, and marks one request done.
func (a *App) seedDemoConversation(ctx context.Context, inc *incident.Incident, orgSlug string, users map[string]*identity.User) error {
	reporter := users[demoEmail(access.Reporter, orgSlug)].Principal()
	cert := users[demoEmail(access.Responder, demoParent(orgSlug))].Principal()
	id := inc.ID.String()
	fail := func(what string, err error) error { return fmt.Errorf("demo: %s on %q: %w", what, inc.Title, err) }
	if _, _, err := a.Comments.Add(ctx, cert, id, "Thank you for the quick report. Please **do not restore from the tapes** "+
		"until we have looked at them together: attackers often wait for the restore.\n\n"+
		"We will call you at 10:00 to go through the next steps.", nil); err != nil {
		return fail("comment", err)
	}
	due := time.Now().Add(4 * time.Hour).UTC().Truncate(time.Minute)
	if _, err := a.Tasks.Create(ctx, cert, id, task.NewTask{Title: "Send us the ransom note and the names of the affected servers",
		Description: "Upload the README-RESTORE.txt from one share as evidence, and list the host names of the encrypted file servers in a comment.",
		Assignee:    reporter.Email, DueAt: &due}); err != nil {
		return fail("request", err)
	}
	asked, err := a.Tasks.Create(ctx, cert, id, task.NewTask{Title: "Tell us when the backup tapes were last connected",
		Assignee: reporter.Email})
	if err != nil {
		return fail("request", err)
	}
	note := "Your files are encrypted. To restore them, contact us at the address below within 72 hours.\n" +
		"(demo file: a harmless copy of the note's wording)\n"
	if _, err := a.Evidence.Upload(ctx, reporter, id, evidence.NewAttachment{Filename: "README-RESTORE.txt",
		ContentType: "text/plain", Description: "Ransom note found on every share of the file servers"}, strings.NewReader(note)); err != nil {
		return fail("evidence", err)
	}
	if _, _, err := a.Comments.Add(ctx, reporter, id, "Affected: **FS01** and **FS03**. FS02 and FS04 look clean.\n\n"+
		"The tapes were last connected on Friday night and have been in the safe since.", nil); err != nil {
		return fail("comment", err)
	}
	done := task.Done
	if _, err := a.Tasks.Update(ctx, reporter, id, asked.ID.String(), task.Patch{Status: &done}, nil); err != nil {
		return fail("request", err)
	}
	return nil
}
