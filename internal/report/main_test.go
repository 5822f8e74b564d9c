package report_test

import (
	"testing"

	"github.com/certdesk/certdesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
