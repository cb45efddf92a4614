package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/httpapi"
	"github.com/zedge-io/zedge/broker/wsapi"
)

// EnvWSAddr sets websocket.addr (default 127.0.0.1:9000; 127.0.0.1:0 picks a free port).
const EnvWSAddr = "ZEDGE_WS_ADDR"

func applyWSEnv(cfg *Config, get func(string) (string, bool)) {
	if v, ok := get(EnvWSAddr); ok {
		cfg.Websocket.Addr = v
	}
}

// newWS builds the websocket API over svc with the HTTP API's authentication settings (it is also mounted at
// /v2/ws on the HTTP port, see httpOptions) and binds its own listener.
func (a *App) newWS(svc *broker.Service, log *slog.Logger) error {
	auth := wsapi.Auth{Mode: wsapi.AuthNone, Leeway: a.cfg.Signing.Token.Leeway, Revoked: a.revoked}
	if a.cfg.Auth.Mode == httpapi.AuthJWT {
		auth.Mode = wsapi.AuthJWT
	}
	var err error
	if auth.URLKeys, err = a.cfg.Signing.KeyRing(); err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	if auth.TokenKeys, err = a.cfg.Signing.TokenKeys(); err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	if a.ws, err = wsapi.New(svc, a.cfg.Websocket, log, wsapi.WithAuth(auth)); err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	if a.wsLn, err = net.Listen("tcp", a.cfg.Websocket.Addr); err != nil {
		return fmt.Errorf("websocket listen: %w", err)
	}
	return nil
}

// httpOptions mounts the websocket upgrade at /v2/ws on the HTTP port.
func (a *App) httpOptions() []httpapi.Option {
	return []httpapi.Option{httpapi.WithWebsocket(a.ws.Handler())}
}

// serveWS serves the websocket listener; the channel is closed when Serve returns.
func (a *App) serveWS() <-chan error {
	done := make(chan error, 1)
	go func() {
		err := a.ws.Serve(a.wsLn)
		if err == nil {
			err = errors.New("listener closed")
		}
		done <- err
		close(done)
	}()
	return done
}

// WSAddr is the address the websocket listener is bound to.
func (a *App) WSAddr() string { return a.wsLn.Addr().String() }

// stopWS closes every socket of both listeners (their socket subscriptions are deleted, so the store must
// still be open) and stops the websocket listener.
func (a *App) stopWS(ctx context.Context) error {
	if a.ws == nil {
		return nil
	}
	err := a.ws.Shutdown(ctx)
	if a.wsLn != nil {
		if cerr := a.wsLn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
	}
	if err != nil {
		return fmt.Errorf("websocket shutdown: %w", err)
	}
	return nil
}
