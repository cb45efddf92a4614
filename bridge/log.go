package bridge

import (
	"context"
	"log/slog"
)

// quietHandler passes the MQTT server's log records to zedge's handler a level lower (its per-connection
// warnings and informational lines become debug, its errors warnings) and drops packet and will dumps, which
// hold payloads, unless debug logging is on.
type quietHandler struct {
	h slog.Handler
}

func demote(l slog.Level) slog.Level {
	switch {
	case l >= slog.LevelError:
		return slog.LevelWarn
	default:
		return slog.LevelDebug
	}
}

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return q.h.Enabled(ctx, demote(l))
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	level := demote(r.Level)
	// The server logs every refusal a hook returns as an error with the packet; the bridge counts and logs
	// those itself.
	if r.Message == "publish packet error" {
		level = slog.LevelDebug
		if !q.h.Enabled(ctx, level) {
			return nil
		}
	}
	out := slog.NewRecord(r.Time, level, r.Message, r.PC)
	keepDumps := q.h.Enabled(ctx, slog.LevelDebug)
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "pk", "packet", "will":
			if !keepDumps {
				return true
			}
		}
		out.AddAttrs(a)
		return true
	})
	return q.h.Handle(ctx, out)
}

func (q quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{q.h.WithAttrs(attrs)}
}

func (q quietHandler) WithGroup(name string) slog.Handler { return quietHandler{q.h.WithGroup(name)} }
