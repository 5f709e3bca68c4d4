// Command chom-server runs the CHOM control plane.
//
//	chom-server serve                 run the API and the workers
//	chom-server migrate up|down|status
//	chom-server admin create-owner --email … --name … --organization …
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/chomhq/chom/server/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Main(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chom-server:", err)
		os.Exit(1)
	}
}
