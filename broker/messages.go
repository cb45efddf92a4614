package broker

import (
	"context"
	"errors"

	"github.com/zedge-io/zedge/store"
)

// PostMessages validates and stores a raw body of the form {"messages": [...]} (extra top-level keys ignored)
// and returns the new IDs in order. size is the request size compared with the post-size limits (0: len(body)).
//
// Checks run in Zaqar's order: queue name, the size limit (the queue's _max_messages_post_size capped by the
// configuration), the JSON body, the "messages" list, each message's types, each message's ranges. ttl defaults
// to the queue's _default_message_ttl, else the configured default; delay is honoured only on delay queues
// (truthy _default_message_delay, which is also its default) and silently dropped elsewhere. The queue is created
// if missing. Observers are then told, synchronously.
func (s *Service) PostMessages(ctx context.Context, c Caller, queue string, body []byte, size int) ([]string, error) {
	if err := checkQueue(c.Project, queue); err != nil {
		return nil, err
	}
	var qs queueSettings
	q, err := s.store.GetQueue(ctx, c.Project, queue)
	switch {
	case err == nil:
		qs = readSettings(q.Metadata)
	case !isNotFound(err):
		return nil, s.unavailable(err, "Messages could not be enqueued.")
	}

	if size <= 0 {
		size = len(body)
	}
	if err := s.checkPostSize(size, qs.maxPostSize); err != nil {
		return nil, err
	}

	spec := postSpec{defaultTTL: int64(s.limits.DefaultMessageTTL)}
	if qs.defaultTTL != 0 {
		spec.defaultTTL = qs.defaultTTL
	}
	if qs.defaultDelay != 0 {
		spec.delayQueue, spec.defaultDelay = true, qs.defaultDelay
	}
	msgs, err := decodeMessages(body, spec, &s.limits, c.ClientID)
	if err != nil {
		return nil, err
	}

	return s.storePosted(ctx, c.Project, queue, msgs)
}

// checkPostSize applies both of Zaqar's size texts: the queue-specific one when the queue sets a limit, then the
// configured one.
func (s *Service) checkPostSize(size int, queueMax int64) error {
	cfgMax := int64(s.limits.MaxMessagesPostSize)
	if queueMax != 0 {
		effective := min(queueMax, cfgMax)
		if int64(size) > effective {
			return Errorf(ErrInvalid, "Message collection size is too large. The max size for current queue is %d. "+
				"It is calculated by max size = min(max_messages_post_size_config: %d, "+
				"max_messages_post_size_queue: %d).", effective, cfgMax, queueMax)
		}
	}
	if int64(size) > cfgMax {
		return Errorf(ErrInvalid, "Message collection size is too large. Max size %d", cfgMax)
	}
	return nil
}

// ListMessages lists messages in post order. Limit is 1..MaxMessagesPerPage (0: 10). Echo=false hides the
// caller's own messages (canonical Client-ID compare). On queues without a truthy _default_message_delay
// include_delayed is forced true; on delay queues it defaults to false. A missing queue gives an empty page.
func (s *Service) ListMessages(ctx context.Context, c Caller, queue string, opt MessageListOptions) (MessageList, error) {
	if err := checkQueue(c.Project, queue); err != nil {
		return MessageList{}, err
	}
	limit, err := pageLimit(opt.Limit, s.limits.MaxMessagesPerPage, "Limit must be at least 1 and may not be greater than %d.")
	if err != nil {
		return MessageList{}, err
	}
	q, err := s.store.GetQueue(ctx, c.Project, queue)
	switch {
	case isNotFound(err):
		return MessageList{Messages: []Message{}, IncludeDelayed: true}, nil
	case err != nil:
		return MessageList{}, s.unavailable(err, "Messages could not be listed.")
	}
	includeDelayed := true
	if readSettings(q.Metadata).defaultDelay != 0 {
		includeDelayed = opt.IncludeDelayed != nil && *opt.IncludeDelayed
	}
	page, err := s.store.ListMessages(ctx, c.Project, queue, store.MessageQuery{
		Marker:         opt.Marker,
		Limit:          limit,
		Echo:           opt.Echo,
		ClientID:       c.ClientID,
		IncludeClaimed: opt.IncludeClaimed,
		IncludeDelayed: includeDelayed,
	}, s.now())
	if err != nil && !isNotFound(err) {
		return MessageList{}, s.unavailable(err, "Messages could not be listed.")
	}
	if page.Messages == nil {
		page.Messages = []Message{}
	}
	return MessageList{Messages: page.Messages, Marker: page.Marker, IncludeDelayed: includeDelayed}, nil
}

// GetMessage returns one message. A missing message gives the message 404 text, or the queue one when the queue
// itself does not exist.
func (s *Service) GetMessage(ctx context.Context, project, queue, id string) (Message, error) {
	if err := checkQueue(project, queue); err != nil {
		return Message{}, err
	}
	msgs, err := s.store.GetMessages(ctx, project, queue, []string{id}, s.now())
	if err != nil && !isNotFound(err) {
		return Message{}, s.unavailable(err, "Message could not be retrieved.")
	}
	if len(msgs) > 0 {
		return msgs[0], nil
	}
	_, qerr := s.store.GetQueue(ctx, project, queue)
	switch {
	case isNotFound(qerr):
		return Message{}, errQueueNotFound(qerr, project, queue)
	case qerr != nil:
		return Message{}, s.unavailable(qerr, "Message could not be retrieved.")
	}
	return Message{}, notFound(store.ErrNotFound, "Message %s does not exist in queue %s for project %s", id, queue, project)
}

// GetMessages returns the found messages among 1..MaxMessagesPerPage ids (none found: ErrNotFound with Zaqar's
// Python-list text).
func (s *Service) GetMessages(ctx context.Context, project, queue string, ids []string) ([]Message, error) {
	if err := checkQueue(project, queue); err != nil {
		return nil, err
	}
	if len(ids) < 1 || len(ids) > s.limits.MaxMessagesPerPage {
		return nil, Errorf(ErrInvalid, "Limit must be at least 1 and may not be greater than %d.", s.limits.MaxMessagesPerPage)
	}
	msgs, err := s.store.GetMessages(ctx, project, queue, ids, s.now())
	if err != nil && !isNotFound(err) {
		return nil, s.unavailable(err, "Message could not be retrieved.")
	}
	if len(msgs) == 0 {
		return nil, notFound(store.ErrNotFound, "No messages with IDs: %s found in the queue %s for project %s.",
			pyStringList(ids), queue, project)
	}
	return msgs, nil
}

// DeleteMessage deletes one message under Zaqar's claim rules (§6.10.6); a missing message or queue is not an
// error.
func (s *Service) DeleteMessage(ctx context.Context, project, queue, id, claimID string) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	err := s.store.DeleteMessage(ctx, project, queue, id, claimID, s.now())
	switch {
	case err == nil, isNotFound(err):
		return nil
	case errors.Is(err, store.ErrClaimed):
		return &Error{Kind: ErrClaimed, Err: err,
			Description: "This message is claimed; it cannot be deleted without a valid claim ID."}
	case errors.Is(err, store.ErrNotClaimed):
		return &Error{Kind: ErrCannotDelete, Err: err,
			Description: "A claim was specified, but the message is not currently claimed."}
	case errors.Is(err, store.ErrClaimNotFound):
		return &Error{Kind: ErrCannotDelete, Err: err, Description: "The specified claim does not exist or has expired."}
	}
	return s.unavailable(err, "Message could not be deleted.")
}

// CheckDeleteQuery applies Zaqar's query-shape rule of DELETE .../messages: exactly one of ids and pop must be
// present. Transports call it with what the query holds before DeleteMessages or PopMessages, which check the
// counts.
func CheckDeleteQuery(hasIDs, hasPop bool) error {
	switch {
	case hasIDs && hasPop:
		return Errorf(ErrInvalid, "pop and id params cannot be present together in the delete request.")
	case !hasIDs && !hasPop:
		return Errorf(ErrInvalid, `The request should have either "ids" or "pop" parameter in the request, to be able to delete.`)
	}
	return nil
}

// DeleteMessages deletes 1..MaxMessagesPerPage messages by id, claimed or not; unknown ids are ignored.
func (s *Service) DeleteMessages(ctx context.Context, project, queue string, ids []string) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	if len(ids) < 1 || len(ids) > s.limits.MaxMessagesPerPage {
		return Errorf(ErrInvalid, "ids parameter should have at least 1 and not greater than %d values.", s.limits.MaxMessagesPerPage)
	}
	if err := s.store.DeleteMessages(ctx, project, queue, ids, s.now()); err != nil && !isNotFound(err) {
		return s.unavailable(err, "Messages could not be deleted.")
	}
	return nil
}

// PopMessages takes and deletes up to n (1..MaxMessagesPerClaimOrPop) unclaimed messages from the head.
func (s *Service) PopMessages(ctx context.Context, project, queue string, n int) ([]Message, error) {
	if err := checkQueue(project, queue); err != nil {
		return nil, err
	}
	if n < 1 || n > s.limits.MaxMessagesPerClaimOrPop {
		return nil, Errorf(ErrInvalid, "Pop value must be at least 1 and may not be greater than %d.", s.limits.MaxMessagesPerClaimOrPop)
	}
	msgs, err := s.store.PopMessages(ctx, project, queue, n, s.now())
	if err != nil && !isNotFound(err) {
		return nil, s.unavailable(err, "Messages could not be popped.")
	}
	if msgs == nil {
		msgs = []Message{}
	}
	return msgs, nil
}
