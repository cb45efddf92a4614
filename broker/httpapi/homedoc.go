package httpapi

import (
	"strings"

	"github.com/zedge-io/zedge/internal/jsonw"
)

// The two static documents, built once. Zaqar serialises them with Python's json module: the versions
// document with the default separators, the home document with indent=4 (which uses "," and ": ").

// jobj is a JSON object that keeps its key order (Python dicts do).
type jobj []jkv

type jkv struct {
	k string
	v any // string, []string, jobj
}

func versionsDocument() []byte {
	version := func(id, status, updated, mediaType, href string) jobj {
		return jobj{
			{"id", id}, {"status", status}, {"updated", updated},
			{"media-types", []jobj{{{"base", "application/json"}, {"type", mediaType}}}},
			{"links", []jobj{{{"href", href}, {"rel", "self"}}}},
		}
	}
	doc := jobj{{"versions", []jobj{
		version("1", "DEPRECATED", "2014-9-11T17:47:05Z", "application/vnd.openstack.messaging-v1+json", "/v1/"),
		version("1.1", "DEPRECATED", "2016-7-29T02:22:47Z", "application/vnd.openstack.messaging-v1_1+json", "/v1.1/"),
		version("2", "CURRENT", "2014-9-24T04:06:47Z", "application/vnd.openstack.messaging-v2+json", "/v2/"),
	}}}
	return appendPyJSON(nil, doc, 0, 0)
}

// homeDocument is Zaqar's JSON-Home document; admin mode adds pools, flavors and health.
func homeDocument(adminMode bool) []byte {
	type res struct {
		rel, template string
		vars          jobj
		allow         []string
		acceptPost    bool
	}
	q := jkv{"queue_name", "param/queue_name"}
	resources := []res{
		{"rel/queues", "/v2/queues{?marker,limit,detailed}",
			jobj{{"marker", "param/marker"}, {"limit", "param/queue_limit"}, {"detailed", "param/detailed"}}, []string{"GET"}, false},
		{"rel/queue", "/v2/queues/{queue_name}", jobj{q}, []string{"GET", "PUT", "DELETE", "PATCH"}, false},
		{"rel/queue_stats", "/v2/queues/{queue_name}/stats", jobj{q}, []string{"GET"}, false},
		{"rel/queue_share", "/v2/queues/{queue_name}/share", jobj{q}, []string{"POST"}, true},
		{"rel/queue_purge", "/v2/queues/{queue_name}/purge", jobj{q}, []string{"POST"}, true},
		{"rel/messages", "/v2/queues/{queue_name}/messages{?marker,limit,echo,include_claimed}",
			jobj{q, {"marker", "param/marker"}, {"limit", "param/messages_limit"}, {"echo", "param/echo"},
				{"include_claimed", "param/include_claimed"}}, []string{"GET"}, false},
		{"rel/post_messages", "/v2/queues/{queue_name}/messages", jobj{q}, []string{"POST"}, true},
		{"rel/messages_delete", "/v2/queues/{queue_name}/messages{?ids,pop}",
			jobj{q, {"ids", "param/ids"}, {"pop", "param/pop"}}, []string{"DELETE"}, false},
		{"rel/message_delete", "/v2/queues/{queue_name}/messages/{message_id}{?claim}",
			jobj{q, {"message_id", "param/message_id"}, {"claim", "param/claim_id"}}, []string{"DELETE"}, false},
		{"rel/message_get", "/v2/queues/{queue_name}/messages/{message_id}",
			jobj{q, {"message_id", "param/message_id"}}, []string{"GET"}, false},
		{"rel/claim", "/v2/queues/{queue_name}/claims/{claim_id}",
			jobj{q, {"claim_id", "param/claim_id"}}, []string{"GET"}, false},
		{"rel/post_claim", "/v2/queues/{queue_name}/claims{?limit}",
			jobj{q, {"limit", "param/claim_limit"}}, []string{"POST"}, true},
		{"rel/patch_claim", "/v2/queues/{queue_name}/claims/{claim_id}",
			jobj{q, {"claim_id", "param/claim_id"}}, []string{"PATCH"}, true},
		{"rel/delete_claim", "/v2/queues/{queue_name}/claims/{claim_id}",
			jobj{q, {"claim_id", "param/claim_id"}}, []string{"DELETE"}, false},
		{"rel/subscriptions_get", "/v2/queues/{queue_name}/subscriptions{?marker,limit}",
			jobj{q, {"marker", "param/marker"}, {"limit", "param/subscription_limit"}}, []string{"GET"}, false},
		{"rel/subscriptions_post", "/v2/queues/{queue_name}/subscriptions",
			jobj{q, {"limit", "param/subscription_limit"}}, []string{"POST"}, true},
		{"rel/subscription", "/v2/queues/{queue_name}/subscriptions/{subscriptions_id}",
			jobj{q, {"subscriptions_id", "param/subscriptions_id"}}, []string{"GET", "DELETE"}, false},
		{"rel/subscription_patch", "/v2/queues/{queue_name}/subscriptions/{subscriptions_id}",
			jobj{q, {"subscriptions_id", "param/subscriptions_id"}}, []string{"PATCH"}, true},
		{"rel/ping", "/v2/ping", nil, []string{"GET"}, false},
	}
	if adminMode {
		resources = append(resources,
			res{"rel/pools", "/v2/pools{?detailed,limit,marker}",
				jobj{{"detailed", "param/detailed"}, {"limit", "param/pool_limit"}, {"marker", "param/marker"}}, []string{"GET"}, false},
			res{"rel/pool", "/v2/pools/{pool_name}", jobj{{"pool_name", "param/pool_name"}},
				[]string{"GET", "PUT", "PATCH", "DELETE"}, false},
			res{"rel/flavors", "/v2/flavors{?detailed,limit,marker}",
				jobj{{"detailed", "param/detailed"}, {"limit", "param/flavor_limit"}, {"marker", "param/marker"}}, []string{"GET"}, false},
			res{"rel/flavor", "/v2/flavors/{flavor_name}", jobj{{"flavor_name", "param/flavor_name"}},
				[]string{"GET", "PUT", "PATCH", "DELETE"}, false},
			res{"rel/health", "", nil, []string{"GET"}, false},
		)
	}
	all := make(jobj, 0, len(resources))
	for _, r := range resources {
		var o jobj
		if r.template == "" {
			o = append(o, jkv{"href", "/v2/health"})
		} else {
			o = append(o, jkv{"href-template", r.template})
		}
		if r.vars != nil {
			o = append(o, jkv{"href-vars", r.vars})
		}
		hints := jobj{{"allow", r.allow}, {"formats", jobj{{"application/json", jobj{}}}}}
		if r.acceptPost {
			hints = append(hints, jkv{"accept-post", []string{"application/json"}})
		}
		o = append(o, jkv{"hints", hints})
		all = append(all, jkv{r.rel, o})
	}
	return appendPyJSON(nil, jobj{{"resources", all}}, 4, 0)
}

// appendPyJSON writes v as Python's json.dumps does: with indent 0, on one line with ", " and ": "; with an
// indent, one member per line indented by that many spaces per level, "," at line ends, and "{}"/"[]" for
// empty containers.
func appendPyJSON(b []byte, v any, indent, level int) []byte {
	sep := func(b []byte, i int) []byte {
		if i > 0 {
			if indent == 0 {
				return append(b, ", "...)
			}
			b = append(b, ',')
		}
		if indent > 0 {
			b = append(b, '\n')
			b = append(b, strings.Repeat(" ", indent*(level+1))...)
		}
		return b
	}
	closing := func(b []byte, c byte) []byte {
		if indent > 0 {
			b = append(b, '\n')
			b = append(b, strings.Repeat(" ", indent*level)...)
		}
		return append(b, c)
	}
	switch v := v.(type) {
	case string:
		return jsonw.AppendString(b, v)
	case []string:
		if len(v) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, s := range v {
			b = jsonw.AppendString(sep(b, i), s)
		}
		return closing(b, ']')
	case []jobj:
		if len(v) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, o := range v {
			b = appendPyJSON(sep(b, i), o, indent, level+1)
		}
		return closing(b, ']')
	case jobj:
		if len(v) == 0 {
			return append(b, "{}"...)
		}
		b = append(b, '{')
		for i, kv := range v {
			b = jsonw.AppendString(sep(b, i), kv.k)
			b = append(b, ": "...)
			b = appendPyJSON(b, kv.v, indent, level+1)
		}
		return closing(b, '}')
	}
	panic("httpapi: unsupported document value")
}
