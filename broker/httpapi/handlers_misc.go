package httpapi

import (
	"context"
	"encoding/json"

	"github.com/valyala/fasthttp"
)

var (
	noBody204 = reply{status: fasthttp.StatusNoContent}
	bodyOK    = []byte("ok\n")
	bodyNotOK = []byte("unavailable\n")
)

// context is the context of the Service calls. fasthttp's RequestCtx is a context whose Done closes when the
// server shuts down, which would cancel the very requests a graceful shutdown lets finish, so the calls get a
// context of their own.
func (r *request) context() context.Context { return context.Background() }

func (s *Server) versions(r *request) (reply, error) {
	return reply{status: fasthttp.StatusMultipleChoices, body: s.versionsDoc}, nil
}

func (s *Server) home(r *request) (reply, error) {
	return reply{status: fasthttp.StatusOK, body: s.homeDoc, contentType: "application/json-home",
		cacheControl: "max-age=86400"}, nil
}

// ping is 204 when the store answers, else 503 with an empty body (Zaqar's ping has no error document).
func (s *Server) ping(r *request) (reply, error) {
	if err := s.svc.Ping(r.context()); err != nil {
		return reply{status: fasthttp.StatusServiceUnavailable}, nil
	}
	return noBody204, nil
}

// pingHead is always 204, as in Zaqar.
func (s *Server) pingHead(r *request) (reply, error) { return noBody204, nil }

func (s *Server) health(r *request) (reply, error) {
	rep, err := s.svc.Health(r.context())
	if err != nil {
		return reply{}, err
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return reply{}, err
	}
	return reply{status: fasthttp.StatusOK, body: body}, nil
}

// probe serves /healthz (liveness: the process answers) and /readyz (readiness: the store answers).
func (s *Server) probe(readiness bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		r := s.begin(ctx, nil)
		defer s.end(r)
		rep := reply{status: fasthttp.StatusOK, body: bodyOK, contentType: "text/plain; charset=utf-8"}
		if readiness {
			if err := s.svc.Ping(r.context()); err != nil {
				s.log.Warn("readiness probe failed", "err", err)
				rep.status, rep.body = fasthttp.StatusServiceUnavailable, bodyNotOK
			}
		}
		s.respond(r, rep, nil)
	}
}
