// Command certdesk-bench is `make bench`: it measures certdesk against
// baselines taken in the same run and prints a table (see
// docs/performance.md, "Benchmarks", and `certdesk-bench -h`).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/certdesk/certdesk/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := bench.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
