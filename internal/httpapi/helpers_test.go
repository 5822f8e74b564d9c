package httpapi_test

import (
	"testing"

	"github.com/certdesk/certdesk/internal/incident"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return id
}

func incidentNamed(title string) incident.NewIncident {
	return incident.NewIncident{Title: title}
}
