package httpapi

import (
	"github.com/zedge-io/zedge/internal/jsonw"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

// hrefBuilder appends a path with query parameters, for links.
type hrefBuilder struct {
	b   []byte
	sep byte
}

func newHref(b []byte, path ...string) hrefBuilder {
	for _, p := range path {
		b = append(b, p...)
	}
	return hrefBuilder{b: b, sep: '?'}
}

func (h *hrefBuilder) add(key, value string) {
	h.b = append(h.b, h.sep)
	h.sep = '&'
	h.b = append(h.b, key...)
	h.b = append(h.b, '=')
	h.b = appendQueryValue(h.b, value)
}

func (h *hrefBuilder) addInt(key string, v int) {
	h.b = append(h.b, h.sep)
	h.sep = '&'
	h.b = append(h.b, key...)
	h.b = append(h.b, '=')
	h.b = appendInt(h.b, int64(v))
}

func (h *hrefBuilder) addBool(key string, v bool) {
	h.b = append(h.b, h.sep)
	h.sep = '&'
	h.b = append(h.b, key...)
	h.b = append(h.b, '=')
	h.b = appendBool(h.b, v)
}

// appendLinks appends `"links": [...]`: one next link when the page has items (even the last page; clients
// stop on an empty page), none otherwise. href is written unescaped: paths, names and percent-encoded values
// need no JSON escaping.
func appendLinks(b []byte, hasItems bool, href []byte) []byte {
	b = appendKey(b, "links")
	if !hasItems {
		return append(b, "[]"...)
	}
	b = append(b, `[{"rel": "next", "href": "`...)
	b = append(b, href...)
	return append(b, `"}]`...)
}

func (r *request) queuePath(b []byte) []byte {
	b = append(b, "/v2/queues/"...)
	return append(b, r.queue...)
}

var queueListParams = map[string]bool{"marker": true, "limit": true, "detailed": true, "name": true, "with_count": true}

// listQueues is GET /v2/queues. Parameters other than the known ones are metadata filters.
func (s *Server) listQueues(r *request) (reply, error) {
	args := r.ctx.QueryArgs()
	var opt broker.QueueListOptions
	opt.Marker = queryString(args, "marker")
	limit, limitSet, err := queryInt(args, "limit")
	if err != nil {
		return reply{}, err
	}
	opt.Limit = limitParam(limit, limitSet)
	detailed, detailedSet, err := queryBool(args, "detailed")
	if err != nil {
		return reply{}, err
	}
	opt.Detailed = detailed
	opt.Name = queryString(args, "name")
	withCount, withCountSet, err := queryBool(args, "with_count")
	if err != nil {
		return reply{}, err
	}
	opt.WithCount = withCount
	for k, v := range args.All() {
		if len(k) == 0 || queueListParams[string(k)] {
			continue
		}
		if p := lastPiece(v); p != nil {
			if opt.Filters == nil {
				opt.Filters = make(map[string]string)
			}
			opt.Filters[string(k)] = string(p)
		}
	}

	list, err := s.svc.ListQueues(r.context(), r.caller.Project, opt)
	if err != nil {
		return reply{}, err
	}

	b := append(r.out[:0], `{"queues": [`...)
	for i := range list.Queues {
		q := &list.Queues[i]
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '{')
		b = appendKey(b, "name")
		b = jsonw.AppendString(b, q.Name)
		if opt.Detailed {
			b = append(b, ", "...)
			b = appendKey(b, "metadata")
			b = q.Metadata.AppendJSON(b)
		}
		b = append(b, `, "href": "/v2/queues/`...)
		b = append(b, q.Name...)
		b = append(b, `"}`...)
	}
	b = append(b, "], "...)

	href := newHref(r.loc[:0], "/v2/queues")
	if len(list.Queues) > 0 {
		// Zaqar's order: the given parameters as read, the marker replaced by the last name (appended when
		// none was given).
		last := list.Queues[len(list.Queues)-1].Name
		if opt.Marker != "" {
			href.add("marker", last)
		}
		if limitSet {
			href.addInt("limit", limit)
		}
		if detailedSet {
			href.addBool("detailed", detailed)
		}
		if opt.Name != "" {
			href.add("name", opt.Name)
		}
		if withCountSet {
			href.addBool("with_count", withCount)
		}
		if opt.Marker == "" {
			href.add("marker", last)
		}
	}
	r.loc = href.b
	b = appendLinks(b, len(list.Queues) > 0, href.b)
	if list.HasCount {
		b = append(b, ", "...)
		b = appendKey(b, "count")
		b = appendInt(b, int64(list.Count))
	}
	b = append(b, '}')
	r.out = b
	return reply{status: fasthttp.StatusOK, body: b}, nil
}

// createQueue is PUT /v2/queues/{q}: 201 if created, 204 if it existed (metadata unchanged).
func (s *Server) createQueue(r *request) (reply, error) {
	body, _, err := r.readBody(s.rules.queuePut)
	if err != nil {
		return reply{}, err
	}
	created, err := s.svc.CreateQueue(r.context(), r.caller.Project, r.queue, body)
	if err != nil {
		return reply{}, err
	}
	r.loc = r.queuePath(r.loc[:0])
	status := fasthttp.StatusNoContent
	if created {
		status = fasthttp.StatusCreated
	}
	return reply{status: status, location: r.loc}, nil
}

// getQueue is GET /v2/queues/{q}: the metadata with reserved defaults (200 even for a missing queue).
func (s *Server) getQueue(r *request) (reply, error) {
	md, err := s.svc.GetQueue(r.context(), r.caller.Project, r.queue)
	if err != nil {
		return reply{}, err
	}
	r.out = md.AppendJSON(r.out[:0])
	return reply{status: fasthttp.StatusOK, body: r.out}, nil
}

// patchQueue is PATCH /v2/queues/{q} with Zaqar's JSON-patch media type, matched exactly as Zaqar does.
func (s *Server) patchQueue(r *request) (reply, error) {
	if string(r.ctx.Request.Header.ContentType()) != patchType {
		return reply{}, errPatchMediaType
	}
	body, _, err := r.readBody(s.rules.queuePatch)
	if err != nil {
		if err == errEmptyBody { // chunked: no Content-Length, as Zaqar sees an empty PATCH
			err = errEmptyPatch
		}
		return reply{}, err
	}
	md, err := s.svc.PatchQueue(r.context(), r.caller.Project, r.queue, body)
	if err != nil {
		return reply{}, err
	}
	r.out = md.AppendJSON(r.out[:0])
	return reply{status: fasthttp.StatusOK, body: r.out}, nil
}

// deleteQueue is DELETE /v2/queues/{q}: 204, also for a missing queue.
func (s *Server) deleteQueue(r *request) (reply, error) {
	if err := s.svc.DeleteQueue(r.context(), r.caller.Project, r.queue); err != nil {
		return reply{}, err
	}
	return noBody204, nil
}

// queueStats is GET /v2/queues/{q}/stats.
func (s *Server) queueStats(r *request) (reply, error) {
	st, err := s.svc.QueueStats(r.context(), r.caller.Project, r.queue)
	if err != nil {
		return reply{}, err
	}
	b := append(r.out[:0], `{"messages": {"claimed": `...)
	b = appendInt(b, int64(st.Claimed))
	b = append(b, `, "free": `...)
	b = appendInt(b, int64(st.Total-st.Claimed))
	b = append(b, `, "total": `...)
	b = appendInt(b, int64(st.Total))
	if st.Total > 0 {
		if st.Oldest != nil {
			b = r.appendMessageRef(b, "oldest", st.Oldest.ID, st.Oldest.Created)
		}
		if st.Newest != nil {
			b = r.appendMessageRef(b, "newest", st.Newest.ID, st.Newest.Created)
		}
	}
	b = append(b, "}}"...)
	r.out = b
	return reply{status: fasthttp.StatusOK, body: b}, nil
}

// appendMessageRef writes the stats' `, "oldest": {"href", "age", "created"}` (MongoDB's shape).
func (r *request) appendMessageRef(b []byte, name, id string, created time.Time) []byte {
	b = append(b, ", "...)
	b = appendKey(b, name)
	b = append(b, `{"href": "`...)
	b = r.queuePath(b)
	b = append(b, "/messages/"...)
	b = jsonw.AppendStringContent(b, id)
	b = append(b, `", "age": `...)
	b = appendInt(b, broker.AgeSeconds(r.now, created))
	b = append(b, `, "created": "`...)
	b = created.UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	return append(b, `"}`...)
}

// purgeQueue is POST /v2/queues/{q}/purge (body optional).
func (s *Server) purgeQueue(r *request) (reply, error) {
	body, _, err := r.readBody(s.rules.optional)
	if err != nil {
		return reply{}, err
	}
	if err := s.svc.PurgeQueue(r.context(), r.caller.Project, r.queue, body); err != nil {
		return reply{}, err
	}
	return noBody204, nil
}
