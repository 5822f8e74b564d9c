// Command certdesk is the coordinated incident-response service. See
// README.md and `certdesk --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/certdesk/certdesk/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, app.Env{Args: os.Args[1:], Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	if err != nil {
		if errors.Is(err, app.ErrUnhealthy) {
			os.Exit(1) // the reason is printed; 1 is "unhealthy" to container health checks
		}
		if !errors.Is(err, app.ErrUsage) {
			fmt.Fprintln(os.Stderr, "certdesk:", err)
		}
		os.Exit(2)
	}
}
