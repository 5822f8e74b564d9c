//go:build reliability

package app_test

import (
	"os"
	"testing"
	"time"
)

// TestReliabilityBackupUnderLoad is the battery's backup row
// (docs/reliability.md, "A backup taken under load restores to a
// consistent, verified copy"): runBackupUnderLoad with more clients and
// more data than the ordinary test.
func TestReliabilityBackupUnderLoad(t *testing.T) {
	t.Parallel()
	load := backupLoad{clients: 4, before: 60, after: 10}
	if os.Getenv("CERTDESK_RELIABILITY") == "long" {
		load = backupLoad{clients: 8, before: 1500, after: 100}
	}
	f, _ := runBackupUnderLoad(t, load)
	t.Logf("T11: backup under load (%d clients): %d incidents acknowledged before it began, all restored; %d incidents, %d evidence rows, %d evidence files in the backup, every file present with its hash; %d audit rows verified on the restored copy; backup %s, restore %s",
		load.clients, f.ackedBefore, f.restoredIncidents, f.evidenceRows, f.evidenceFiles, f.audits,
		f.backupTime.Round(time.Millisecond), f.restoreTime.Round(time.Millisecond))
}
