package firmwaresim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrREST wraps an unexpected answer of zedge's REST API.
var ErrREST = errors.New("firmwaresim: REST call failed")

// restClient is the operator's (controller's, verifier's) view of zedge's REST API.
type restClient struct {
	base     string // http://host:port
	project  string
	token    string // X-Auth-Token in jwt mode; empty in auth none
	clientID string
	hc       *http.Client
}

type restMessage struct {
	ID   string          `json:"id"`
	Href string          `json:"href"`
	Age  int             `json:"age"`
	Body json.RawMessage `json:"body"`
}

// QueueStats is GET /v2/queues/{q}/stats's messages object.
type QueueStats struct {
	Claimed int `json:"claimed"`
	Free    int `json:"free"`
	Total   int `json:"total"`
}

func (c *restClient) do(ctx context.Context, method, path string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Client-ID", c.clientID)
	req.Header.Set("X-Project-ID", c.project)
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, resp.Header, raw, err
}

func unexpected(method, path string, status int, raw []byte) error {
	return fmt.Errorf("%w: %s %s: status %d: %s", ErrREST, method, path, status, bytes.TrimSpace(raw))
}

// post posts one message and returns its id.
func (c *restClient) post(ctx context.Context, queue string, body any, ttl int) (string, error) {
	path := "/v2/queues/" + queue + "/messages"
	st, _, raw, err := c.do(ctx, http.MethodPost, path, map[string]any{"messages": []any{map[string]any{"body": body, "ttl": ttl}}})
	if err != nil {
		return "", err
	}
	if st != http.StatusCreated {
		return "", unexpected("POST", path, st, raw)
	}
	var out struct{ Resources []string }
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Resources) != 1 {
		return "", fmt.Errorf("%w: POST %s: resources %s", ErrREST, path, raw)
	}
	r := out.Resources[0]
	return r[strings.LastIndexByte(r, '/')+1:], nil
}

// claim claims up to limit messages; none (204) is an empty slice.
func (c *restClient) claim(ctx context.Context, queue string, limit, ttl, grace int) ([]restMessage, error) {
	path := "/v2/queues/" + queue + "/claims?limit=" + strconv.Itoa(limit)
	st, _, raw, err := c.do(ctx, http.MethodPost, path, map[string]int{"ttl": ttl, "grace": grace})
	if err != nil {
		return nil, err
	}
	switch st {
	case http.StatusNoContent:
		return nil, nil
	case http.StatusCreated:
		var out struct{ Messages []restMessage }
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("%w: claim answer %q: %v", ErrREST, raw, err)
		}
		return out.Messages, nil
	}
	return nil, unexpected("POST", path, st, raw)
}

// deleteIDs deletes messages by id (bulk; claimed or not).
func (c *restClient) deleteIDs(ctx context.Context, queue string, ids []string) error {
	path := "/v2/queues/" + queue + "/messages?ids=" + url.QueryEscape(strings.Join(ids, ","))
	st, _, raw, err := c.do(ctx, http.MethodDelete, path, nil)
	if err != nil {
		return err
	}
	if st != http.StatusNoContent {
		return unexpected("DELETE", path, st, raw)
	}
	return nil
}

// listPage lists one page after marker ("" from the head), claimed messages included, and returns the marker
// to continue from (the same marker when the page is empty).
func (c *restClient) listPage(ctx context.Context, queue, marker string) ([]restMessage, string, error) {
	q := url.Values{"echo": {"true"}, "include_claimed": {"true"}, "limit": {"20"}}
	if marker != "" {
		q.Set("marker", marker)
	}
	path := "/v2/queues/" + queue + "/messages?" + q.Encode()
	st, _, raw, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, marker, err
	}
	if st == http.StatusNoContent {
		return nil, marker, nil
	}
	if st != http.StatusOK {
		return nil, marker, unexpected("GET", path, st, raw)
	}
	var out struct {
		Messages []restMessage
		Links    []struct{ Rel, Href string }
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, marker, fmt.Errorf("%w: list answer: %v", ErrREST, err)
	}
	next := marker
	for _, l := range out.Links {
		if l.Rel != "next" {
			continue
		}
		if u, err := url.Parse(l.Href); err == nil && u.Query().Get("marker") != "" {
			next = u.Query().Get("marker")
		}
	}
	return out.Messages, next, nil
}

// listAll lists a whole queue.
func (c *restClient) listAll(ctx context.Context, queue string) ([]restMessage, error) {
	var all []restMessage
	marker := ""
	for {
		page, next, err := c.listPage(ctx, queue, marker)
		if err != nil {
			return all, err
		}
		if len(page) == 0 || next == marker {
			return append(all, page...), nil
		}
		all = append(all, page...)
		marker = next
	}
}

// stats is GET /v2/queues/{q}/stats.
func (c *restClient) stats(ctx context.Context, queue string) (QueueStats, error) {
	path := "/v2/queues/" + queue + "/stats"
	st, _, raw, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return QueueStats{}, err
	}
	if st != http.StatusOK {
		return QueueStats{}, unexpected("GET", path, st, raw)
	}
	var out struct{ Messages QueueStats }
	if err := json.Unmarshal(raw, &out); err != nil {
		return QueueStats{}, fmt.Errorf("%w: stats answer: %v", ErrREST, err)
	}
	return out.Messages, nil
}

// share asks zedge for a signed URL (POST /v2/queues/{q}/share) granting POST on the queue's messages.
func (c *restClient) share(ctx context.Context, queue string, expires time.Time) (string, error) {
	path := "/v2/queues/" + queue + "/share"
	st, _, raw, err := c.do(ctx, http.MethodPost, path, map[string]any{"paths": []string{"messages"},
		"methods": []string{"POST"}, "expires": expires.UTC().Format("2006-01-02T15:04:05")})
	if err != nil {
		return "", err
	}
	if st != http.StatusOK {
		return "", unexpected("POST", path, st, raw)
	}
	var out struct {
		Paths     []string `json:"paths"`
		Methods   []string `json:"methods"`
		Project   *string  `json:"project"`
		Expires   string   `json:"expires"`
		Signature string   `json:"signature"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Signature == "" {
		return "", fmt.Errorf("%w: share answer %q", ErrREST, raw)
	}
	q := url.Values{"signature": {out.Signature}, "expires": {out.Expires},
		"methods": {strings.Join(out.Methods, ",")}, "paths": {strings.Join(out.Paths, ",")}}
	if out.Project != nil {
		q.Set("project", *out.Project)
	}
	return c.base + "/v2/queues/" + queue + "/messages?" + q.Encode(), nil
}
