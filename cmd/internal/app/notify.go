package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/notify"
)

// newNotifier starts subscription delivery over svc. Confirmation URLs are signed with the URL-signing keys,
// so that the confirm PUT verifies on the HTTP API; mqtt: subscribers are republished through the bridge.
func (a *App) newNotifier(svc *broker.Service, log *slog.Logger) error {
	ring, err := a.cfg.Signing.KeyRing()
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if a.notifier, err = notify.New(svc, a.cfg.Notify, log, notify.WithKeyRing(ring), notify.WithPublisher(a.mqtt)); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if a.cfg.Notify.RequireConfirmation && ring == nil {
		a.log.Warn("notify.require_confirmation is on but no URL-signing key is configured: subscriptions cannot " +
			"be confirmed and receive nothing; set ZEDGE_SIGNING_KEY or signing.url_keys")
	}
	return nil
}

// Notifier is the subscription delivery (its counters, for tests and a later metrics exporter).
func (a *App) Notifier() *notify.Notifier { return a.notifier }

// stopNotifier lets queued notifications go out (bounded by ctx) once nothing posts any more, before the store
// is closed.
func (a *App) stopNotifier(ctx context.Context) error {
	if a.notifier == nil {
		return nil
	}
	if err := a.notifier.Close(ctx); err != nil {
		return fmt.Errorf("notify shutdown: %w", err)
	}
	return nil
}
