package worker

import (
	"fmt"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/riverqueue/river"
)

// cancelPermanent decides what River does with a job's error: errors that
// another attempt cannot fix (the incident is gone, the input is invalid)
// cancel the job; anything else is retried with backoff.
func cancelPermanent(err error) error {
	if err == nil {
		return nil
	}
	switch apperr.CodeOf(err) {
	case apperr.NotFound, apperr.Invalid, apperr.Forbidden:
		return river.JobCancel(fmt.Errorf("permanent: %w", err))
	}
	return err
}
