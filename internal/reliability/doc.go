// Package reliability holds the process-level part of the reliability
// battery (issue 15, docs/reliability.md): tests that build the certdesk
// binary, run it as real `certdesk migrate`, `serve` and `worker`
// processes against a PostgreSQL cluster of their own, and kill, stop and
// restart those processes under load, with a fake Slack
// (internal/slackfake), a webhook receiver and an S3 server
// (internal/s3fake) in the test process.
//
// The tests are behind the build tag "reliability" and are not part of
// `go test ./...`: `make reliability` runs the long mode
// (CERTDESK_RELIABILITY=long) and `make reliability-quick` (run by CI)
// the quick mode (CERTDESK_RELIABILITY=quick, the default). Each test
// prints its figure on one line (`T1: ...`) and asserts the promise, never
// a time:
//
//   - TestReliabilityKillUnderLoad (T1): the server is killed with SIGKILL
//     every 2–5 s under load; no acknowledged report is lost, every
//     routing, playbook run and notification completes after the last
//     restart, no notification reaches Slack twice.
//   - TestReliabilityGracefulShutdown (T6): SIGTERM under load; requests
//     accepted before the signal are answered, running jobs finish or run
//     again, nothing is lost.
//   - TestReliabilityScaleOut (T10): two API processes and two worker
//     processes on one database with the S3 evidence backend; one of each
//     is killed mid-way; nothing lost or done twice, and evidence uploaded
//     through one API process downloads through the other.
//   - TestReliabilityWebhookWorkerKilled (T3): the worker is killed while
//     a playbook's webhook call is in flight; after the restart the step
//     completes with at most one repeated call, carrying the same
//     Idempotency-Key.
package reliability
