// Package deploy holds the tests of the deployment descriptors: the
// Compose file deploy/compose.yaml and the Helm chart deploy/helm/certdesk
// (docs/operations.md, "Deploying with Compose" and "Deploying on
// Kubernetes (Helm)"). `make lint-deploy` checks their syntax with
// docker-compose and helm; these tests check what the tools cannot: that
// every variable they set is one internal/config reads, that the probes ask
// /healthz and /readyz, and that each service runs the right command. It
// has no code of its own.
package deploy
