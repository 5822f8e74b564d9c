package slack_test

import "github.com/certdesk/certdesk/internal/playbook"

// noPlaybooks runs the tests of this package without the shipped
// playbooks: what they count is their own notifications and timers, and a
// playbook triggered by the same incident would add its own (playbook runs
// are tested in internal/runbook).
var noPlaybooks = []*playbook.Playbook{}
