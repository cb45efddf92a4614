package broker

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// ListQueues lists the project's queues by name. Limit is 1..MaxQueuesPerPage (0: 10). Name keeps queues whose
// name contains it (a plain substring; Zaqar's MongoDB driver uses it unescaped as a regular expression). Each
// filter k=v keeps queues whose metadata k equals v, compared as an integer when v parses as one, else as a string
// (an array value matches when one of its elements does, as in MongoDB). Filtering reads further store pages until
// the page is full or the project is exhausted. Count ignores filters.
func (s *Service) ListQueues(ctx context.Context, project string, opt QueueListOptions) (QueueList, error) {
	limit, err := pageLimit(opt.Limit, s.limits.MaxQueuesPerPage, "Limit must be at least 1 and no greater than %d.")
	if err != nil {
		return QueueList{}, err
	}
	var out QueueList
	if !ValidProjectID(project) {
		return out, nil // such a project cannot own queues
	}
	filtered := opt.Name != "" || len(opt.Filters) > 0
	fetch := limit
	if filtered {
		fetch = max(limit, 50)
	}
	marker := opt.Marker
	for len(out.Queues) < limit {
		page, err := s.store.ListQueues(ctx, project, marker, fetch)
		if err != nil {
			return QueueList{}, s.unavailable(err, "Queues could not be listed.")
		}
		for _, q := range page {
			if !strings.Contains(q.Name, opt.Name) {
				continue
			}
			var md Metadata
			if len(opt.Filters) > 0 || opt.Detailed {
				md = storedMetadata(q.Metadata)
			}
			if !matchFilters(md, opt.Filters) {
				continue
			}
			item := QueueItem{Name: q.Name}
			if opt.Detailed {
				item.Metadata = s.withDefaults(md)
			}
			out.Queues = append(out.Queues, item)
			if len(out.Queues) == limit {
				break
			}
		}
		if len(page) < fetch {
			break
		}
		marker = page[len(page)-1].Name
	}
	if opt.WithCount {
		n, err := s.store.CountQueues(ctx, project)
		if err != nil {
			return QueueList{}, s.unavailable(err, "Queues could not be listed.")
		}
		out.Count, out.HasCount = n, n > 0
	}
	return out, nil
}

// matchFilters reports whether metadata satisfies every k=v filter.
func matchFilters(md Metadata, filters map[string]string) bool {
	for k, want := range filters {
		v, ok := md[k]
		if !ok || !matchValue(v, want) {
			return false
		}
	}
	return true
}

func matchValue(v []byte, want string) bool {
	if isArray(v) {
		it := elements(v)
		for e, ok := it.next(); ok; e, ok = it.next() {
			if !isArray(e) && matchValue(e, want) {
				return true
			}
		}
		return false
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(want), 10, 64); err == nil {
		if !isNumber(v) {
			return false
		}
		f, _ := pyNumber(v)
		if isIntLiteral(v) {
			i, _ := pyInt(v)
			return i == n
		}
		return f == float64(n)
	}
	return isString(v) && decodeString(v) == want
}

// CreateQueue creates a queue with the optional metadata body (raw JSON object; empty means none).
// It reports whether the queue was created (false: it existed, and its metadata is unchanged).
func (s *Service) CreateQueue(ctx context.Context, project, queue string, body []byte) (bool, error) {
	if err := checkQueue(project, queue); err != nil {
		return false, err
	}
	md, err := decodeQueueMetadata(body, &s.limits)
	if err != nil {
		return false, err
	}
	created, err := s.store.CreateQueue(ctx, project, queue, encodeObject(md), s.now())
	if err != nil {
		return false, s.unavailable(err, "Queue could not be created.")
	}
	return created, nil
}

// GetQueue returns the metadata with reserved defaults filled in (a missing queue gives just the defaults).
func (s *Service) GetQueue(ctx context.Context, project, queue string) (Metadata, error) {
	if err := checkQueue(project, queue); err != nil {
		return nil, err
	}
	q, err := s.store.GetQueue(ctx, project, queue)
	switch {
	case isNotFound(err):
		return s.withDefaults(nil), nil
	case err != nil:
		return nil, s.unavailable(err, "Queue metadata could not be retrieved.")
	}
	return s.withDefaults(storedMetadata(q.Metadata)), nil
}

// StoredQueue returns a queue's metadata as stored, without the reserved defaults, and whether the queue exists.
// The websocket transport needs both: its queue_get shows stored metadata only, and queue_get_stats and
// message_list answer 404 for a missing queue where REST answers 200.
func (s *Service) StoredQueue(ctx context.Context, project, queue string) (md Metadata, exists bool, err error) {
	if err := checkQueue(project, queue); err != nil {
		return nil, false, err
	}
	q, err := s.store.GetQueue(ctx, project, queue)
	switch {
	case isNotFound(err):
		return Metadata{}, false, nil
	case err != nil:
		return nil, false, s.unavailable(err, "Queue metadata could not be retrieved.")
	}
	return storedMetadata(q.Metadata), true, nil
}

// reservedKey reports whether key is one of the reported reserved keys, which PATCH may replace or remove even
// when they are not stored.
func (s *Service) reservedKey(key string) bool {
	_, ok := s.defaults[key]
	return ok
}

// PatchQueue applies a raw Zaqar JSON-patch body and returns the new metadata with defaults filled in.
// The operations are validated first (400 Invalid request body), then applied in order to the stored metadata
// (409 for replace/remove of a missing non-reserved key), then the reserved keys are validated, all inside
// store.UpdateQueue so the change is atomic. A missing queue is a 404.
func (s *Service) PatchQueue(ctx context.Context, project, queue string, body []byte) (Metadata, error) {
	if err := checkQueue(project, queue); err != nil {
		return nil, err
	}
	ops, err := decodePatch(body, &s.limits)
	if err != nil {
		return nil, err
	}
	updated, err := s.store.UpdateQueue(ctx, project, queue, func(current []byte) ([]byte, error) {
		md := storedMetadata(current)
		for _, op := range ops {
			switch op.op {
			case "add":
				md[op.key] = op.value
			case "replace":
				if _, ok := md[op.key]; !ok && !s.reservedKey(op.key) {
					return nil, Errorf(ErrConflict, "Can't replace non-existent object %s.", op.key)
				}
				md[op.key] = op.value
			case "remove":
				if _, ok := md[op.key]; ok {
					delete(md, op.key)
				} else if !s.reservedKey(op.key) {
					return nil, Errorf(ErrConflict, "Can't remove non-existent object %s.", op.key)
				}
			}
		}
		if err := validateReserved(md, s.limits, ErrBadBody); err != nil {
			return nil, err
		}
		return encodeObject(md), nil
	})
	if err != nil {
		var de *Error
		switch {
		case errors.As(err, &de) && !errors.Is(err, ErrUnavailable):
			return nil, err
		case isNotFound(err):
			return nil, errQueueNotFound(err, project, queue)
		default:
			return nil, s.unavailable(err, "Queue could not be updated.")
		}
	}
	return s.withDefaults(storedMetadata(updated)), nil
}

// DeleteQueue deletes the queue and its messages; idempotent. Subscriptions stay, as in Zaqar.
func (s *Service) DeleteQueue(ctx context.Context, project, queue string) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	if err := s.store.DeleteQueue(ctx, project, queue); err != nil && !isNotFound(err) {
		return s.unavailable(err, "Queue could not be deleted.")
	}
	return nil
}

// QueueStats counts the queue's messages (zeros for a missing queue).
func (s *Service) QueueStats(ctx context.Context, project, queue string) (QueueStats, error) {
	if err := checkQueue(project, queue); err != nil {
		return QueueStats{}, err
	}
	st, err := s.store.Stats(ctx, project, queue, s.now())
	switch {
	case isNotFound(err):
		return QueueStats{}, nil
	case err != nil:
		return QueueStats{}, s.unavailable(err, "Queue stats could not be read.")
	}
	return st, nil
}

// PurgeQueue handles a raw purge body (empty: purge messages and subscriptions). Unlike Zaqar 15, which pops
// unclaimed messages and deletes one page of subscriptions, it removes every message (claimed ones included) and
// every subscription (spec §14 #17).
func (s *Service) PurgeQueue(ctx context.Context, project, queue string, body []byte) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	t, err := decodePurge(body)
	if err != nil {
		return err
	}
	if t.messages {
		if err := s.store.PurgeMessages(ctx, project, queue); err != nil && !isNotFound(err) {
			return s.unavailable(err, "Queue could not be purged.")
		}
	}
	if t.subscriptions {
		if err := s.store.PurgeSubscriptions(ctx, project, queue); err != nil && !isNotFound(err) {
			return s.unavailable(err, "Queue could not be purged.")
		}
		s.notifySubscription(SubscriptionEvent{Kind: SubscriptionsPurged, Project: project,
			Subscription: Subscription{Queue: queue}})
	}
	return nil
}
