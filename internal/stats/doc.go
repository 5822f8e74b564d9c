// Package stats holds the leadership metrics: what is counted and
// measured for a viewer and a period (response times as median and p90,
// legal deadline compliance, new incidents by class and severity, open
// incidents, sectors and regions, escalations between organisations,
// personal-data breaches, the oldest open incidents), and the roll-ups that
// keep them fast at a million incidents.
//
// Every figure is computed over the incidents the viewer may see, the one
// visibility rule of docs/security.md, and nothing else. The roll-ups are
// kept per *audience organisation*: an incident adds its cells (Cells) to
// the rows of every organisation that sees it as a whole (Facts.Audience:
// the reporting and coordinating organisation and, below TLP:AMBER+STRICT,
// every CERT above the reporting organisation). What a viewer sees only as
// a person (named participant) or through a share or escalation is never
// in a roll-up row of its organisation; those incidents are few, and the
// use cases add their cells directly (Store.ExtraFacts). docs/metrics.md
// gives the definitions, the design and its proof, and the figures at
// 1,000,000 incidents.
//
// The roll-ups change in the transaction of every change of an incident
// (Service.Handler on the incident bus) and of organisations (OrgChanged),
// as append-only deltas that a periodic job folds into the totals
// (CompactJob), so that concurrent reports never wait on a shared counter.
package stats
