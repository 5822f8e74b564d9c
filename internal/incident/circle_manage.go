package incident

import (
	"context"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// MaxCircleReason bounds the reason given for ending a share or removing
// a participant, in characters.
const MaxCircleReason = 2000

// Circle returns whom inc was opened to beyond the organisations of the
// visibility rule: the organisations it is shared with or escalated to,
// and its named participants. inc is an incident read for p (Get); p must
// be allowed to read incidents (apperr.Forbidden otherwise).
func (s *Service) Circle(ctx context.Context, p access.Principal, inc *Incident) ([]Share, []Participant, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, nil, err
	}
	var shares []Share
	var parts []Participant
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if shares, err = tx.Shares(ctx, inc.ID); err != nil {
			return err
		}
		parts, err = tx.Participants(ctx, inc.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return shares, parts, nil
}

// EndShareWith ends the incident's share with the organisation orgSlug,
// for a reason, with a share_ended timeline event and an audit entry, in
// one transaction. It needs incident.share (the write table). Errors:
// apperr.Invalid naming "reason" (required, at most MaxCircleReason); an
// incident p does not see, or no share with that organisation,
// apperr.NotFound; apperr.Forbidden; an escalation (which ends in its own
// workflow: decline or withdraw it) apperr.Conflict.
func (s *Service) EndShareWith(ctx context.Context, p access.Principal, idOrRef, orgSlug, reason string) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.ShareIncident, inc.Relations); err != nil {
			return err
		}
		shares, err := tx.Shares(ctx, inc.ID)
		if err != nil {
			return err
		}
		for _, sh := range shares {
			if sh.OrgSlug != orgSlug {
				continue
			}
			if sh.Kind != "share" {
				return apperr.New(apperr.Conflict, "the incident was escalated to %s: the escalation ends in its own workflow", orgSlug)
			}
			return s.EndShare(ctx, tx, ActorOf(p), inc, sh, strings.TrimSpace(reason))
		}
		return apperr.New(apperr.NotFound, "incident %s is not shared with %q", inc.Reference, orgSlug)
	})
}

// RemoveParticipantByID removes the named participant with this user ID
// from the incident, for a reason, with a participant_removed timeline
// event and an audit entry, in one transaction; a participant who is the
// assignee is no longer assigned. It needs the write naming a participant
// needs (incident.share; on TLP:RED incident.participant_red). Errors as
// for EndShareWith; a user who is not a participant is apperr.NotFound;
// the reporter of a TLP:RED incident, who would lose sight of their own
// report, apperr.Conflict.
func (s *Service) RemoveParticipantByID(ctx context.Context, p access.Principal, idOrRef, userID, reason string) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	uid, perr := uuid.Parse(userID)
	return s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(participantWrite(inc), inc.Relations); err != nil {
			return err
		}
		if perr != nil {
			return apperr.New(apperr.NotFound, "no participant %q", userID)
		}
		parts, err := tx.Participants(ctx, inc.ID)
		if err != nil {
			return err
		}
		for _, pt := range parts {
			if pt.UserID == uid {
				if inc.TLP == TLPRed && inc.ReporterUserID != nil && *inc.ReporterUserID == uid {
					return apperr.New(apperr.Conflict, "the reporter of a TLP:RED incident stays a participant: without it they would lose sight of their own report")
				}
				return s.RemoveParticipant(ctx, tx, ActorOf(p), inc, pt, strings.TrimSpace(reason))
			}
		}
		return apperr.New(apperr.NotFound, "no participant %q", userID)
	})
}

// checkReason names the reason's field when it is missing or too long.
func checkReason(reason string) error {
	var fs apperr.Fields
	if strings.TrimSpace(reason) == "" {
		fs.Add("reason", "required", "reason is required")
	} else {
		fs.Text("reason", reason, MaxCircleReason)
	}
	return fs.Err()
}
