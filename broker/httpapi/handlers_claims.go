package httpapi

import (
	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

func (r *request) claimPath(b []byte, id string) []byte {
	b = r.queuePath(b)
	b = append(b, "/claims/"...)
	return append(b, id...)
}

// createClaim is POST /v2/queues/{q}/claims[?limit=N]: 201 with the claimed messages, or 204 when nothing
// could be claimed. Over HTTP the limit comes from the query only; a limit in the body is ignored.
func (s *Server) createClaim(r *request) (reply, error) {
	limit, limitSet, err := queryInt(r.ctx.QueryArgs(), "limit")
	if err != nil {
		return reply{}, err
	}
	body, _, err := r.readBody(s.rules.optional)
	if err != nil {
		return reply{}, err
	}
	opt, err := broker.DecodeClaimOptions(body)
	if err != nil {
		return reply{}, err
	}
	opt.Limit = limitParam(limit, limitSet)
	claim, msgs, err := s.svc.CreateClaim(r.context(), r.caller.Project, r.queue, opt)
	if err != nil {
		return reply{}, err
	}
	if len(msgs) == 0 {
		return noBody204, nil
	}
	if s.obs != nil {
		s.obs.MessagesClaimed(r.queue, len(msgs))
	}
	b := append(r.out[:0], `{"messages": [`...)
	for i := range msgs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = r.appendMessage(b, &msgs[i], claim.ID)
	}
	b = append(b, "]}"...)
	r.out = b
	r.loc = r.claimPath(r.loc[:0], claim.ID)
	return reply{status: fasthttp.StatusCreated, body: b, location: r.loc}, nil
}

// getClaim is GET /v2/queues/{q}/claims/{cid}: {"age", "ttl", "messages", "href"}, no grace.
func (s *Server) getClaim(r *request) (reply, error) {
	claim, msgs, err := s.svc.GetClaim(r.context(), r.caller.Project, r.queue, userString(r.ctx, "claim_id"))
	if err != nil {
		return reply{}, err
	}
	b := append(r.out[:0], `{"age": `...)
	b = appendInt(b, broker.AgeSeconds(r.now, claim.Updated))
	b = append(b, `, "ttl": `...)
	b = appendInt(b, seconds(claim.TTL))
	b = append(b, ", "...)
	b = r.appendMessages(b, msgs)
	b = append(b, `, "href": "`...)
	b = r.claimPath(b, claim.ID)
	b = append(b, `"}`...)
	r.out = b
	return reply{status: fasthttp.StatusOK, body: b}, nil
}

// updateClaim is PATCH /v2/queues/{q}/claims/{cid}; the body is required ({} renews with the defaults).
func (s *Server) updateClaim(r *request) (reply, error) {
	body, _, err := r.readBody(s.rules.required)
	if err != nil {
		return reply{}, err
	}
	opt, err := broker.DecodeClaimOptions(body)
	if err != nil {
		return reply{}, err
	}
	opt.Limit = 0
	if err := s.svc.UpdateClaim(r.context(), r.caller.Project, r.queue, userString(r.ctx, "claim_id"), opt); err != nil {
		return reply{}, err
	}
	return noBody204, nil
}

// releaseClaim is DELETE /v2/queues/{q}/claims/{cid}: 204, also for an unknown claim.
func (s *Server) releaseClaim(r *request) (reply, error) {
	if err := s.svc.ReleaseClaim(r.context(), r.caller.Project, r.queue, userString(r.ctx, "claim_id")); err != nil {
		return reply{}, err
	}
	return noBody204, nil
}
