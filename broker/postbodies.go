package broker

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/zedge-io/zedge/store"
)

// BodyMessage is one message for PostBodies: a body the caller built as JSON itself.
type BodyMessage struct {
	Body     []byte   // one JSON value, the message body
	TTL      int      // seconds; 0: the queue's _default_message_ttl, else the configured default
	ClientID ClientID // the poster, as Caller.ClientID of PostMessages (echo filtering)
}

// PostBodies stores messages of one project's queue whose bodies a transport built itself (the MQTT bridge's
// envelopes), without the {"messages": [...]} wrapper that PostMessages parses. Each message may name its own
// poster, so one call can carry the publishes of several devices. The rules are PostMessages' and are checked
// here, in the same order: queue name, post size (counted as the PostMessages body that would carry the same
// messages, so both paths accept and refuse alike), each body (ValidBody), each ttl's range; delay follows the
// queue's _default_message_delay; the queue is created if missing; observers are told once. It is all or
// nothing: one bad message refuses the call. The bodies are copied (trimmed of white space, as PostMessages stores them), so the caller may reuse its buffers.
func (s *Service) PostBodies(ctx context.Context, project, queue string, msgs []BodyMessage) ([]string, error) {
	if err := checkQueue(project, queue); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, Errorf(ErrInvalid, "No messages to enqueu.")
	}
	var qs queueSettings
	q, err := s.store.GetQueue(ctx, project, queue)
	switch {
	case err == nil:
		qs = readSettings(q.Metadata)
	case !isNotFound(err):
		return nil, s.unavailable(err, "Messages could not be enqueued.")
	}
	if err := s.checkPostSize(postBodiesSize(msgs), qs.maxPostSize); err != nil {
		return nil, err
	}
	defaultTTL := int64(s.limits.DefaultMessageTTL)
	if qs.defaultTTL != 0 {
		defaultTTL = qs.defaultTTL
	}
	total := 0
	for _, m := range msgs {
		if err := ValidBody(m.Body); err != nil {
			return nil, err
		}
		total += len(m.Body) // white space around a body is not stored, as in PostMessages
	}
	out := make([]store.NewMessage, len(msgs))
	arena := make([]byte, total)
	off := 0
	for i, m := range msgs {
		ttl := defaultTTL
		if m.TTL != 0 {
			ttl = int64(m.TTL)
		}
		if ttl < int64(s.limits.MinMessageTTL) || ttl > int64(s.limits.MaxMessageTTL) {
			return nil, Errorf(ErrInvalid,
				"The TTL for a message may not exceed %d seconds, and must be at least %d seconds long.",
				s.limits.MaxMessageTTL, s.limits.MinMessageTTL)
		}
		n := copy(arena[off:], trimJSON(m.Body))
		out[i] = store.NewMessage{Body: arena[off : off+n : off+n], TTL: seconds(ttl), ClientID: m.ClientID}
		if qs.defaultDelay != 0 {
			// PostMessages' delay rule without a per-message delay: the queue's default, range-checked.
			if qs.defaultDelay < 0 || qs.defaultDelay > int64(s.limits.MaxMessageDelay) {
				return nil, Errorf(ErrInvalid,
					"The Delay TTL for a message may not exceed %d seconds,and must be at least 0 seconds long.",
					s.limits.MaxMessageDelay)
			}
			out[i].Delay = seconds(qs.defaultDelay)
		}
		off += n
	}
	return s.storePosted(ctx, project, queue, out)
}

// storePosted stores validated messages and tells the observers.
func (s *Service) storePosted(ctx context.Context, project, queue string, msgs []store.NewMessage) ([]string, error) {
	now := s.now()
	ids, err := s.store.PostMessages(ctx, project, queue, msgs, now)
	if err != nil {
		return nil, s.unavailable(err, "Messages could not be enqueued.")
	}
	if len(ids) != len(msgs) {
		return nil, s.unavailable(errors.New("store returned a different number of ids"), "Messages could not be enqueued.")
	}
	if len(*s.observersV.Load()) > 0 {
		posted := make([]Message, len(msgs))
		for i, m := range msgs {
			posted[i] = Message{ID: ids[i], Body: m.Body, TTL: m.TTL, Created: now, Expires: now.Add(m.TTL),
				ClientID: m.ClientID}
			if m.Delay > 0 {
				posted[i].DelayUntil = now.Add(m.Delay)
			}
		}
		s.notify(PostEvent{Project: project, Queue: queue, Messages: posted})
	}
	return ids, nil
}

// postBodiesSize is the length of the PostMessages body {"messages":[{"ttl":N,"body":...},...]} that carries
// msgs, the ttl member left out where it is 0.
func postBodiesSize(msgs []BodyMessage) int {
	n := len(`{"messages":[]}`) + len(msgs) - 1 // the commas between messages
	for _, m := range msgs {
		n += len(`{"body":}`) + len(m.Body)
		if m.TTL != 0 {
			n += len(`"ttl":,`) + len(strconv.Itoa(m.TTL))
		}
	}
	return n
}

// ValidBody checks that b is a message body the Service accepts: one JSON value (object, array or scalar; white
// space around it allowed), UTF-8, with no integer outside int64. It gives PostMessages' errors (ErrBadBody,
// "Request body could not be parsed." or "JSON contains integer that is too large."). A transport that embeds
// foreign bytes in a body it builds checks them with it first.
func ValidBody(b []byte) error {
	switch checkValue(b) {
	case jsonMalformed:
		return Errorf(ErrBadBody, "Request body could not be parsed.")
	case jsonIntTooLarge:
		return Errorf(ErrBadBody, "JSON contains integer that is too large.")
	}
	return nil
}

// checkValue is checkJSON for one value of any type (a message body may be a scalar).
func checkValue(data []byte) jsonProblem {
	if !utf8.Valid(data) {
		return jsonMalformed
	}
	p := jsonParser{data: data}
	p.i = skipWS(data, 0)
	if p.i >= len(data) {
		return jsonMalformed
	}
	if !p.value(0) {
		return p.problem
	}
	if skipWS(data, p.i) != len(data) {
		return jsonMalformed
	}
	return jsonOK
}
