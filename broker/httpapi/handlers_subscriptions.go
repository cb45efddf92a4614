package httpapi

import (
	"errors"
	"github.com/zedge-io/zedge/internal/jsonw"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

func (r *request) subscriptionsPath(b []byte) []byte {
	b = r.queuePath(b)
	return append(b, "/subscriptions"...)
}

func (s *Server) subscriptionBody(r *request) ([]byte, error) {
	body, _, err := r.readBody(s.rules.optional)
	return body, err
}

// createSubscription is POST /v2/queues/{q}/subscriptions: 201 {"subscription_id"} with the collection as
// Location (also for an unconfirmed duplicate); a confirmed duplicate is a 409 that carries the Location too.
func (s *Server) createSubscription(r *request) (reply, error) {
	body, err := s.subscriptionBody(r)
	if err != nil {
		return reply{}, err
	}
	sub, _, err := s.svc.CreateSubscription(r.context(), r.caller.Project, r.queue, body)
	r.loc = r.subscriptionsPath(r.loc[:0])
	if err != nil {
		if errors.Is(err, broker.ErrConflict) {
			return reply{location: r.loc}, err
		}
		return reply{}, err
	}
	b := append(r.out[:0], `{"subscription_id": `...)
	b = jsonw.AppendString(b, sub.ID)
	b = append(b, '}')
	r.out = b
	return reply{status: fasthttp.StatusCreated, body: b, location: r.loc}, nil
}

// listSubscriptions is GET /v2/queues/{q}/subscriptions (python-zaqarclient's detailed is ignored).
func (s *Server) listSubscriptions(r *request) (reply, error) {
	args := r.ctx.QueryArgs()
	marker := queryString(args, "marker")
	limit, limitSet, err := queryInt(args, "limit")
	if err != nil {
		return reply{}, err
	}
	subs, err := s.svc.ListSubscriptions(r.context(), r.caller.Project, r.queue, marker, limitParam(limit, limitSet))
	if err != nil {
		return reply{}, err
	}
	b := append(r.out[:0], `{"subscriptions": [`...)
	for i := range subs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = broker.AppendSubscriptionJSON(b, &subs[i], r.now)
	}
	b = append(b, "], "...)
	href := newHref(r.loc[:0])
	href.b = r.subscriptionsPath(href.b)
	if len(subs) > 0 {
		last := subs[len(subs)-1].ID
		if marker != "" {
			href.add("marker", last)
		}
		if limitSet {
			href.addInt("limit", limit)
		}
		if marker == "" {
			href.add("marker", last)
		}
	}
	r.loc = href.b
	b = appendLinks(b, len(subs) > 0, href.b)
	b = append(b, '}')
	r.out = b
	return reply{status: fasthttp.StatusOK, body: b}, nil
}

// getSubscription is GET /v2/queues/{q}/subscriptions/{sid}; a body sent with it (python-zaqarclient sends
// one) is ignored.
func (s *Server) getSubscription(r *request) (reply, error) {
	sub, err := s.svc.GetSubscription(r.context(), r.caller.Project, r.queue, userString(r.ctx, "subscription_id"))
	if err != nil {
		return reply{}, err
	}
	r.out = broker.AppendSubscriptionJSON(r.out[:0], &sub, r.now)
	return reply{status: fasthttp.StatusOK, body: r.out}, nil
}

// updateSubscription is PATCH /v2/queues/{q}/subscriptions/{sid}: 204 with the item as Location.
func (s *Server) updateSubscription(r *request) (reply, error) {
	body, err := s.subscriptionBody(r)
	if err != nil {
		return reply{}, err
	}
	id := userString(r.ctx, "subscription_id")
	if err := s.svc.UpdateSubscription(r.context(), r.caller.Project, r.queue, id, body); err != nil {
		return reply{}, err
	}
	r.loc = append(append(r.subscriptionsPath(r.loc[:0]), '/'), id...)
	return reply{status: fasthttp.StatusNoContent, location: r.loc}, nil
}

// deleteSubscription is DELETE /v2/queues/{q}/subscriptions/{sid}: 204 always.
func (s *Server) deleteSubscription(r *request) (reply, error) {
	if err := s.svc.DeleteSubscription(r.context(), r.caller.Project, r.queue, userString(r.ctx, "subscription_id")); err != nil {
		return reply{}, err
	}
	return noBody204, nil
}

// confirmSubscription is PUT /v2/queues/{q}/subscriptions/{sid}/confirm: 204 with the confirm path as
// Location.
func (s *Server) confirmSubscription(r *request) (reply, error) {
	body, err := s.subscriptionBody(r)
	if err != nil {
		return reply{}, err
	}
	id := userString(r.ctx, "subscription_id")
	if _, err := s.svc.ConfirmSubscription(r.context(), r.caller.Project, r.queue, id, body); err != nil {
		return reply{}, err
	}
	r.loc = append(append(append(r.subscriptionsPath(r.loc[:0]), '/'), id...), "/confirm"...)
	return reply{status: fasthttp.StatusNoContent, location: r.loc}, nil
}
