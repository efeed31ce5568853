package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// reloadOnSIGHUP turns SIGHUP into reload requests for app.Config.Reload
// until ctx ends. It is set up only when there is something to reload (a
// TLS certificate, an OIDC providers file): otherwise SIGHUP keeps its
// default effect (ending the process) rather than being silently
// swallowed.
func reloadOnSIGHUP(ctx context.Context) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				// Several signals while a reload is pending are one reload.
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}
	}()
	return reload
}
