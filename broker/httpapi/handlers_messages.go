package httpapi

import (
	"github.com/valyala/fasthttp"
	"github.com/zedge-io/zedge/internal/jsonw"

	"github.com/zedge-io/zedge/broker"
)

// appendMessage writes Zaqar's message object {"id", "href", "ttl", "age", "body"}; the href carries
// ?claim_id= when claimID is not empty. The body is copied raw, as stored.
func (r *request) appendMessage(b []byte, m *broker.Message, claimID string) []byte {
	b = append(b, `{"id": "`...)
	b = jsonw.AppendStringContent(b, m.ID)
	b = append(b, `", "href": "`...)
	b = r.queuePath(b)
	b = append(b, "/messages/"...)
	b = jsonw.AppendStringContent(b, m.ID)
	if claimID != "" {
		b = append(b, "?claim_id="...)
		b = jsonw.AppendStringContent(b, claimID)
	}
	b = append(b, `", "ttl": `...)
	b = appendInt(b, seconds(m.TTL))
	b = append(b, `, "age": `...)
	b = appendInt(b, broker.AgeSeconds(r.now, m.Created))
	b = append(b, `, "body": `...)
	b = appendRaw(b, m.Body)
	return append(b, '}')
}

// liveClaim is the claim a message is under at the time of the response, or "".
func (r *request) liveClaim(m *broker.Message) string {
	if m.Claimed(r.now) {
		return m.ClaimID
	}
	return ""
}

// appendMessages writes `"messages": [...]` with each message's live claim in its href.
func (r *request) appendMessages(b []byte, msgs []broker.Message) []byte {
	b = appendKey(b, "messages")
	b = append(b, '[')
	for i := range msgs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = r.appendMessage(b, &msgs[i], r.liveClaim(&msgs[i]))
	}
	return append(b, ']')
}

// postMessages is POST /v2/queues/{q}/messages. A body over the configured post size is refused before it
// is read; the queue's own _max_messages_post_size is the Service's check (it gets the size).
func (s *Server) postMessages(r *request) (reply, error) {
	body, size, err := r.readBody(s.rules.messages)
	if err != nil {
		return reply{}, err
	}
	ids, err := s.svc.PostMessages(r.context(), r.caller, r.queue, body, size)
	if err != nil {
		return reply{}, err
	}
	loc := r.queuePath(r.loc[:0])
	loc = append(loc, "/messages?ids="...)
	b := append(r.out[:0], `{"resources": [`...)
	for i, id := range ids {
		if i > 0 {
			loc = append(loc, ',')
			b = append(b, ", "...)
		}
		loc = append(loc, id...)
		b = append(b, '"')
		b = r.queuePath(b)
		b = append(b, "/messages/"...)
		b = jsonw.AppendStringContent(b, id)
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	r.out, r.loc = b, loc
	return reply{status: fasthttp.StatusCreated, body: b, location: loc}, nil
}

// getMessages is GET /v2/queues/{q}/messages: by ids when ids is given (which wins over the listing
// parameters), else a page of the listing.
func (s *Server) getMessages(r *request) (reply, error) {
	args := r.ctx.QueryArgs()
	if ids := queryList(args, "ids"); ids != nil {
		msgs, err := s.svc.GetMessages(r.context(), r.caller.Project, r.queue, ids)
		if err != nil {
			return reply{}, err
		}
		b := append(r.out[:0], '{')
		b = r.appendMessages(b, msgs)
		b = append(b, '}')
		r.out = b
		return reply{status: fasthttp.StatusOK, body: b}, nil
	}

	var opt broker.MessageListOptions
	opt.Marker = queryString(args, "marker")
	limit, limitSet, err := queryInt(args, "limit")
	if err != nil {
		return reply{}, err
	}
	opt.Limit = limitParam(limit, limitSet)
	echo, echoSet, err := queryBool(args, "echo")
	if err != nil {
		return reply{}, err
	}
	opt.Echo = echo
	claimed, claimedSet, err := queryBool(args, "include_claimed")
	if err != nil {
		return reply{}, err
	}
	opt.IncludeClaimed = claimed
	delayed, delayedSet, err := queryBool(args, "include_delayed")
	if err != nil {
		return reply{}, err
	}
	if delayedSet {
		opt.IncludeDelayed = &delayed
	}

	list, err := s.svc.ListMessages(r.context(), r.caller, r.queue, opt)
	if err != nil {
		return reply{}, err
	}
	b := append(r.out[:0], '{')
	b = r.appendMessages(b, list.Messages)
	b = append(b, ", "...)
	href := newHref(r.loc[:0])
	href.b = r.queuePath(href.b)
	href.b = append(href.b, "/messages"...)
	if len(list.Messages) > 0 {
		// Zaqar's order: the given parameters as read, include_delayed when given or forced on, the marker
		// replaced by the page's (appended when none was given).
		if opt.Marker != "" {
			href.add("marker", list.Marker)
		}
		if limitSet {
			href.addInt("limit", limit)
		}
		if echoSet {
			href.addBool("echo", echo)
		}
		if claimedSet {
			href.addBool("include_claimed", claimed)
		}
		if delayedSet || list.IncludeDelayed {
			href.addBool("include_delayed", list.IncludeDelayed)
		}
		if opt.Marker == "" {
			href.add("marker", list.Marker)
		}
	}
	r.loc = href.b
	b = appendLinks(b, len(list.Messages) > 0, href.b)
	b = append(b, '}')
	r.out = b
	return reply{status: fasthttp.StatusOK, body: b}, nil
}

var (
	errPopAndIDs = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid API request",
		Description: "pop and id params cannot be present together in the delete request."}
	errNoPopNorIDs = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid API request",
		Description: `The request should have either "ids" or "pop" parameter in the request, to be able to delete.`}
)

// deleteMessages is DELETE /v2/queues/{q}/messages with exactly one of ids (204) or pop (200 with the
// popped messages). Which of the two was asked is a question of query syntax, so it is answered here; the
// Service checks the counts.
func (s *Server) deleteMessages(r *request) (reply, error) {
	args := r.ctx.QueryArgs()
	ids := queryList(args, "ids")
	pop, popSet, err := queryInt(args, "pop")
	if err != nil {
		return reply{}, err
	}
	switch {
	case len(ids) > 0 && popSet && pop != 0: // Zaqar tests both for truth
		return reply{}, errPopAndIDs
	case ids == nil && !popSet:
		return reply{}, errNoPopNorIDs
	case popSet:
		msgs, err := s.svc.PopMessages(r.context(), r.caller.Project, r.queue, pop)
		if err != nil {
			return reply{}, err
		}
		if s.obs != nil && len(msgs) > 0 {
			s.obs.MessagesDeleted(r.queue, len(msgs))
		}
		b := append(r.out[:0], `{"messages": [`...)
		for i := range msgs {
			m := &msgs[i]
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, `{"id": "`...)
			b = jsonw.AppendStringContent(b, m.ID)
			b = append(b, `", "age": `...)
			b = appendInt(b, broker.AgeSeconds(r.now, m.Created))
			b = append(b, `, "ttl": `...)
			b = appendInt(b, seconds(m.TTL))
			b = append(b, `, "body": `...)
			b = appendRaw(b, m.Body)
			b = append(b, `, "claim_id": null, "claim_count": `...)
			b = appendInt(b, int64(m.ClaimCount))
			b = append(b, '}')
		}
		b = append(b, "]}"...)
		r.out = b
		return reply{status: fasthttp.StatusOK, body: b}, nil
	default:
		if err := s.svc.DeleteMessages(r.context(), r.caller.Project, r.queue, ids); err != nil {
			return reply{}, err
		}
		if s.obs != nil {
			// Ids that were already gone are not told apart (Zaqar answers 204 either way): this counts the
			// ids asked for.
			s.obs.MessagesDeleted(r.queue, len(ids))
		}
		return noBody204, nil
	}
}

// getMessage is GET /v2/queues/{q}/messages/{mid}.
func (s *Server) getMessage(r *request) (reply, error) {
	m, err := s.svc.GetMessage(r.context(), r.caller.Project, r.queue, userString(r.ctx, "message_id"))
	if err != nil {
		return reply{}, err
	}
	r.out = r.appendMessage(r.out[:0], &m, r.liveClaim(&m))
	return reply{status: fasthttp.StatusOK, body: r.out}, nil
}

// deleteMessage is DELETE /v2/queues/{q}/messages/{mid}[?claim_id=]: the Service applies the claim rules.
func (s *Server) deleteMessage(r *request) (reply, error) {
	err := s.svc.DeleteMessage(r.context(), r.caller.Project, r.queue, userString(r.ctx, "message_id"),
		queryString(r.ctx.QueryArgs(), "claim_id"))
	if err != nil {
		return reply{}, err
	}
	if s.obs != nil {
		s.obs.MessagesDeleted(r.queue, 1)
	}
	return noBody204, nil
}
