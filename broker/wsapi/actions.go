package wsapi

import (
	"encoding/json"
	"errors"
	"github.com/zedge-io/zedge/internal/jsonw"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/zedge-io/zedge/broker"
)

// handler runs one validated action.
type handler func(s *Server, c *conn, r *request) reply

// actionSpec is an action of Zaqar's v2 websocket API: its schema and its handler (nil: not implemented).
type actionSpec struct {
	schema
	run handler
	// queue says the action names a queue (body queue_name): signed URLs and token queue claims apply to it.
	queue bool
}

func qname() field { return field{"queue_name", tString, true} }

// actions is Zaqar 15's websocket action table (zaqar/api/v2/request.py), with zedge's handlers.
var actions map[string]*actionSpec

func init() {
	data := func(run handler, fields ...field) *actionSpec {
		return &actionSpec{schema: schema{headers: dataHeaders, bodyRequired: true, fields: append([]field{qname()}, fields...)},
			run: run, queue: true}
	}
	unimplemented := &actionSpec{schema: schema{}}
	actions = map[string]*actionSpec{
		"get_home_doc":      unimplemented,
		"check_node_health": unimplemented,
		"ping_node":         unimplemented,
		"authenticate":      {schema: schema{headers: []string{"X-Project-ID", "X-Auth-Token"}}},

		"queue_list": {schema: schema{headers: dataHeaders, fields: []field{
			{"marker", tString, false}, {"limit", tInt, false}, {"detailed", tBool, false}}}, run: queueList},
		"queue_create":    data(queueCreate, field{"metadata", tObject, false}),
		"queue_delete":    data(queueDelete),
		"queue_get":       data(queueGet),
		"queue_get_stats": data(queueGetStats),
		"queue_purge":     data(queuePurge, field{"resource_types", tArray, false}),

		"message_list": data(messageList, field{"marker", tString, false}, field{"limit", tInt, false},
			field{"echo", tBool, false}, field{"include_claimed", tBool, false}, field{"include_delayed", tBool, false}),
		"message_get":      data(messageGet, field{"message_id", tString, true}),
		"message_get_many": data(messageGetMany, field{"message_ids", tArray, true}),
		"message_post":     data(messagePost, field{"messages", tArray, true}),
		"message_delete":   data(messageDelete, field{"message_id", tString, true}, field{"claim_id", tString, false}),
		"message_delete_many": data(messageDeleteMany, field{"message_ids", tArray, false},
			field{"claim_ids", tArray, false}, field{"pop", tInt, false}),

		"claim_create": data(claimCreate, field{"limit", tInt, false}, field{"ttl", tInt, false},
			field{"grace", tInt, false}),
		"claim_get":    data(claimGet, field{"claim_id", tString, true}),
		"claim_update": data(claimUpdate, field{"claim_id", tString, true}, field{"ttl", tInt, false}, field{"grace", tInt, false}),
		"claim_delete": data(claimDelete, field{"claim_id", tString, true}),

		"subscription_create": data(subscriptionCreate, field{"subscriber", tString, false}, field{"ttl", tInt, false},
			field{"options", tObject, false}),
		"subscription_list":   data(subscriptionList, field{"marker", tString, false}, field{"limit", tInt, false}),
		"subscription_get":    data(subscriptionGet, field{"subscription_id", tString, true}),
		"subscription_delete": data(subscriptionDelete, field{"subscription_id", tString, true}),
	}
	for _, kind := range []string{"pool", "flavor"} {
		for _, op := range []string{"create", "list", "get", "update", "delete"} {
			actions[kind+"_"+op] = unimplemented
		}
	}
}

// --- rendering ---

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// appendMessage writes a websocket message object: {"id", "claim_id", "ttl", "age", "body"} (no href).
// claimID "" writes null.
func appendMessage(b []byte, m *broker.Message, claimID string, now time.Time) []byte {
	b = append(b, `{"id": `...)
	b = jsonw.AppendString(b, m.ID)
	b = append(b, `, "claim_id": `...)
	if claimID == "" {
		b = append(b, "null"...)
	} else {
		b = jsonw.AppendString(b, claimID)
	}
	b = append(b, `, "ttl": `...)
	b = appendInt(b, seconds(m.TTL))
	b = append(b, `, "age": `...)
	b = appendInt(b, broker.AgeSeconds(now, m.Created))
	b = append(b, `, "body": `...)
	if len(m.Body) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, m.Body...)
	}
	return append(b, '}')
}

// liveClaim is the claim a listed message is under at now ("" when none).
func liveClaim(m *broker.Message, now time.Time) string {
	if m.Claimed(now) {
		return m.ClaimID
	}
	return ""
}

func appendMessages(b []byte, msgs []broker.Message, claimID string, now time.Time) []byte {
	b = append(b, '[')
	for i := range msgs {
		if i > 0 {
			b = append(b, ", "...)
		}
		cid := claimID
		if cid == "" {
			cid = liveClaim(&msgs[i], now)
		}
		b = appendMessage(b, &msgs[i], cid, now)
	}
	return append(b, ']')
}

func ok(status int, body []byte) reply { return reply{status: status, body: body} }

// --- queues ---

func queueList(s *Server, c *conn, r *request) reply {
	detailed, _ := r.boolField("detailed")
	list, err := s.svc.ListQueues(s.ctx, r.project, broker.QueueListOptions{
		Marker: r.str("marker"), Limit: r.limitField("limit"), Detailed: detailed})
	if err != nil {
		return errorReply(err)
	}
	b := []byte(`{"queues": [`)
	for i, q := range list.Queues {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"name": `...)
		b = jsonw.AppendString(b, q.Name)
		if detailed {
			b = append(b, `, "metadata": `...)
			b = q.Metadata.AppendJSON(b)
		}
		b = append(b, '}')
	}
	return ok(http.StatusOK, append(b, "]}"...))
}

func queueCreate(s *Server, c *conn, r *request) reply {
	created, err := s.svc.CreateQueue(s.ctx, r.project, r.queue, r.body["metadata"])
	if err != nil {
		return errorReply(err)
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusNoContent
	}
	return textReply(status, "Queue "+r.queue+" created.")
}

func queueDelete(s *Server, c *conn, r *request) reply {
	if err := s.svc.DeleteQueue(s.ctx, r.project, r.queue); err != nil {
		return errorReply(err)
	}
	return textReply(http.StatusNoContent, "Queue "+r.queue+" removed.")
}

// queueGet answers the stored metadata without reserved defaults ({} for a missing queue), as Zaqar's
// websocket endpoint does.
func queueGet(s *Server, c *conn, r *request) reply {
	md, _, err := s.svc.StoredQueue(s.ctx, r.project, r.queue)
	if err != nil {
		return errorReply(err)
	}
	return ok(http.StatusOK, md.AppendJSON(nil))
}

// queueGetStats answers the stats; a missing queue gets the zero stats with status 404 (Zaqar's quirk).
func queueGetStats(s *Server, c *conn, r *request) reply {
	_, exists, err := s.svc.StoredQueue(s.ctx, r.project, r.queue)
	if err != nil {
		return errorReply(err)
	}
	if !exists {
		return ok(http.StatusNotFound, []byte(`{"messages": {"claimed": 0, "free": 0, "total": 0}}`))
	}
	st, err := s.svc.QueueStats(s.ctx, r.project, r.queue)
	if err != nil {
		return errorReply(err)
	}
	now := s.now()
	b := append([]byte(`{"messages": {"claimed": `), appendInt(nil, int64(st.Claimed))...)
	b = append(b, `, "free": `...)
	b = appendInt(b, int64(st.Total-st.Claimed))
	b = append(b, `, "total": `...)
	b = appendInt(b, int64(st.Total))
	if st.Total > 0 {
		if st.Oldest != nil {
			b = appendMessageRef(b, "oldest", st.Oldest.ID, st.Oldest.Created, now)
		}
		if st.Newest != nil {
			b = appendMessageRef(b, "newest", st.Newest.ID, st.Newest.Created, now)
		}
	}
	return ok(http.StatusOK, append(b, "}}"...))
}

// appendMessageRef writes the stats' `, "oldest": {"id", "age", "created"}` (the storage shape, without href).
func appendMessageRef(b []byte, name, id string, created, now time.Time) []byte {
	b = append(b, `, "`+name+`": {"id": `...)
	b = jsonw.AppendString(b, id)
	b = append(b, `, "age": `...)
	b = appendInt(b, broker.AgeSeconds(now, created))
	b = append(b, `, "created": "`...)
	b = created.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, `"}`...)
}

func queuePurge(s *Server, c *conn, r *request) reply {
	var body []byte
	if v, ok := r.body["resource_types"]; ok {
		body = object("resource_types", v)
	}
	if err := s.svc.PurgeQueue(s.ctx, r.project, r.queue, body); err != nil {
		return errorReply(err)
	}
	return ok(http.StatusNoContent, emptyObject)
}

// --- messages ---

// caller builds the Service's caller from the Client-ID header (a UUID, as Zaqar's message endpoints check).
func (r *request) caller() (broker.Caller, error) {
	id, err := broker.ParseClientID(r.header("Client-ID"))
	return broker.Caller{Project: r.project, ClientID: id}, err
}

func messageList(s *Server, c *conn, r *request) reply {
	caller, err := r.caller()
	if err != nil {
		return errorReply(err)
	}
	opt := broker.MessageListOptions{Marker: r.str("marker"), Limit: r.limitField("limit")}
	opt.Echo, _ = r.boolField("echo")
	opt.IncludeClaimed, _ = r.boolField("include_claimed")
	if v, set := r.boolField("include_delayed"); set {
		opt.IncludeDelayed = &v
	}
	// Zaqar's websocket listing fails with 404 on a missing queue (REST answers an empty page).
	_, exists, err := s.svc.StoredQueue(s.ctx, r.project, r.queue)
	if err != nil {
		return errorReply(err)
	}
	if !exists {
		return errorReply(broker.Errorf(broker.ErrNotFound, "Queue %s does not exist for project %s", r.queue, r.project))
	}
	list, err := s.svc.ListMessages(s.ctx, caller, r.queue, opt)
	if err != nil {
		return errorReply(err)
	}
	b := append([]byte(`{"messages": `), appendMessages(nil, list.Messages, "", s.now())...)
	return ok(http.StatusOK, append(b, '}'))
}

func messageGet(s *Server, c *conn, r *request) reply {
	m, err := s.svc.GetMessage(s.ctx, r.project, r.queue, r.str("message_id"))
	if err != nil {
		return errorReply(err)
	}
	now := s.now()
	b := append([]byte(`{"messages": `), appendMessage(nil, &m, liveClaim(&m, now), now)...)
	return ok(http.StatusOK, append(b, '}'))
}

// messageGetMany answers the messages found; none found is an empty list, not a 404, over websocket.
func messageGetMany(s *Server, c *conn, r *request) reply {
	ids, valid := stringList(r.body["message_ids"])
	if !valid {
		return errSchema
	}
	msgs, err := s.svc.GetMessages(s.ctx, r.project, r.queue, ids)
	if err != nil && !errors.Is(err, broker.ErrNotFound) {
		return errorReply(err)
	}
	b := append([]byte(`{"messages": `), appendMessages(nil, msgs, "", s.now())...)
	return ok(http.StatusOK, append(b, '}'))
}

func messagePost(s *Server, c *conn, r *request) reply {
	caller, err := r.caller()
	if err != nil {
		return errorReply(err)
	}
	raw := r.body["messages"]
	body := object("messages", raw)
	// Zaqar measures a websocket post by the length of the text of its messages list, not in bytes.
	ids, err := s.svc.PostMessages(s.ctx, caller, r.queue, body, utf8.RuneCount(raw))
	if err != nil {
		return errorReply(err)
	}
	b := []byte(`{"message_ids": [`)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsonw.AppendString(b, id)
	}
	return ok(http.StatusCreated, append(b, "]}"...))
}

func messageDelete(s *Server, c *conn, r *request) reply {
	if err := s.svc.DeleteMessage(s.ctx, r.project, r.queue, r.str("message_id"), r.str("claim_id")); err != nil {
		return errorReply(err)
	}
	return ok(http.StatusNoContent, emptyObject)
}

// messageDeleteMany deletes by message_ids (204 {}) or pops (200 {"messages": [...]}).
func messageDeleteMany(s *Server, c *conn, r *request) reply {
	idsRaw, hasIDs := r.body["message_ids"]
	popRaw, hasPop := r.body["pop"]
	if err := broker.CheckDeleteQuery(hasIDs, hasPop); err != nil {
		return errorReply(err)
	}
	if hasIDs {
		ids, valid := stringList(idsRaw)
		if !valid {
			return errSchema
		}
		if err := s.svc.DeleteMessages(s.ctx, r.project, r.queue, ids); err != nil {
			return errorReply(err)
		}
		return ok(http.StatusNoContent, emptyObject)
	}
	n, fits := rawInt(popRaw)
	if !fits || n < -1<<31 || n > 1<<31 {
		n = -1
	}
	msgs, err := s.svc.PopMessages(s.ctx, r.project, r.queue, int(n))
	if err != nil {
		return errorReply(err)
	}
	b := append([]byte(`{"messages": `), appendMessages(nil, msgs, "", s.now())...)
	return ok(http.StatusOK, append(b, '}'))
}

// --- claims ---

// claimOptions reads ttl and grace through the Service's decoder (the body's other members are ignored by
// it) and the limit from the body, where the websocket API carries it.
func claimOptions(r *request) (broker.ClaimOptions, error) {
	opt, err := broker.DecodeClaimOptions(object("ttl", r.body["ttl"], "grace", r.body["grace"]))
	opt.Limit = r.limitField("limit")
	return opt, err
}

func claimCreate(s *Server, c *conn, r *request) reply {
	opt, err := claimOptions(r)
	if err != nil {
		return errorReply(err)
	}
	claim, msgs, err := s.svc.CreateClaim(s.ctx, r.project, r.queue, opt)
	if err != nil {
		return errorReply(err)
	}
	if len(msgs) == 0 {
		return ok(http.StatusNoContent, []byte(`{"claim_id": null}`))
	}
	b := append([]byte(`{"claim_id": `), jsonw.AppendString(nil, claim.ID)...)
	b = append(b, `, "messages": `...)
	b = appendMessages(b, msgs, claim.ID, s.now())
	return ok(http.StatusCreated, append(b, '}'))
}

func claimGet(s *Server, c *conn, r *request) reply {
	claim, msgs, err := s.svc.GetClaim(s.ctx, r.project, r.queue, r.str("claim_id"))
	if err != nil {
		return errorReply(err)
	}
	now := s.now()
	b := append([]byte(`{"age": `), appendInt(nil, broker.AgeSeconds(now, claim.Updated))...)
	b = append(b, `, "ttl": `...)
	b = appendInt(b, seconds(claim.TTL))
	b = append(b, `, "messages": `...)
	b = appendMessages(b, msgs, claim.ID, now)
	return ok(http.StatusOK, append(b, '}'))
}

func claimUpdate(s *Server, c *conn, r *request) reply {
	opt, err := claimOptions(r)
	if err != nil {
		return errorReply(err)
	}
	id := r.str("claim_id")
	if err := s.svc.UpdateClaim(s.ctx, r.project, r.queue, id, opt); err != nil {
		return errorReply(err)
	}
	return textReply(http.StatusNoContent, "Claim "+id+" updated.")
}

func claimDelete(s *Server, c *conn, r *request) reply {
	id := r.str("claim_id")
	if err := s.svc.ReleaseClaim(s.ctx, r.project, r.queue, id); err != nil {
		return errorReply(err)
	}
	return textReply(http.StatusNoContent, "Claim "+id+" deleted.")
}

// --- subscriptions ---

// subscriptionCreate creates a subscription; without a subscriber it subscribes this socket (spec §10). A
// duplicate is a 409 with a text body over websocket, confirmed or not.
func subscriptionCreate(s *Server, c *conn, r *request) reply {
	subscriber, socket := r.body["subscriber"], false
	if subscriber == nil {
		subscriber, socket = jsonw.AppendString(nil, c.subscriber), true
	}
	body := object("subscriber", json.RawMessage(subscriber), "ttl", r.body["ttl"], "options", r.body["options"])
	sub, created, err := s.svc.CreateSubscription(s.ctx, r.project, r.queue, body)
	switch {
	case errors.Is(err, broker.ErrConflict) || (err == nil && !created):
		return textReply(http.StatusConflict, "Subscription "+r.queue+" not created.")
	case err != nil:
		return errorReply(err)
	}
	if socket {
		s.register(c, r.project, sub, r.binary)
	}
	b := append([]byte(`{"subscription_id": `), jsonw.AppendString(nil, sub.ID)...)
	b = append(b, `, "message": `...)
	b = jsonw.AppendString(b, "Subscription "+r.queue+" created.")
	return ok(http.StatusCreated, append(b, '}'))
}

func subscriptionList(s *Server, c *conn, r *request) reply {
	subs, err := s.svc.ListSubscriptions(s.ctx, r.project, r.queue, r.str("marker"), r.limitField("limit"))
	if err != nil {
		return errorReply(err)
	}
	now := s.now()
	b := []byte(`{"subscriptions": [`)
	for i := range subs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = broker.AppendSubscriptionJSON(b, &subs[i], now)
	}
	return ok(http.StatusOK, append(b, "]}"...))
}

func subscriptionGet(s *Server, c *conn, r *request) reply {
	sub, err := s.svc.GetSubscription(s.ctx, r.project, r.queue, r.str("subscription_id"))
	if err != nil {
		return errorReply(err)
	}
	return ok(http.StatusOK, broker.AppendSubscriptionJSON(nil, &sub, s.now()))
}

func subscriptionDelete(s *Server, c *conn, r *request) reply {
	id := r.str("subscription_id")
	if err := s.svc.DeleteSubscription(s.ctx, r.project, r.queue, id); err != nil {
		return errorReply(err)
	}
	return textReply(http.StatusNoContent, "Subscription "+id+" removed.")
}
