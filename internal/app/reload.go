package app

import (
	"context"
	"log/slog"

	"github.com/fedid/fedid"
)

// fanOut copies every request of in to two channels (a pending request
// stands for any number of them).
func fanOut(ctx context.Context, in <-chan struct{}) (a, b chan struct{}) {
	a, b = make(chan struct{}, 1), make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-in:
				for _, c := range []chan struct{}{a, b} {
					select {
					case c <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	return a, b
}

// reloadProvidersOn registers the providers file again on every reload
// request (SIGHUP); a file that does not load is logged and changes
// nothing.
func reloadProvidersOn(ctx context.Context, reload <-chan struct{}, st fedid.Store, file string, clock fedid.Clock, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			n, err := LoadProviders(ctx, st, file, clock.Now())
			if err != nil {
				log.Error("OIDC providers file not reloaded", "file", file, "err", err)
				continue
			}
			log.Info("OIDC providers reloaded from file", "file", file, "count", n)
		}
	}
}
