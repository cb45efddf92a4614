package httpapi

import (
	"slices"
	"strings"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// route is one path of the API with what the pipeline needs to know about it.
type route struct {
	path  string
	v2    bool // under /v2/: Client-ID and X-Project-ID are required
	queue bool // has {queue_name}: queue identification runs
	admin bool // needs the admin role
	open  bool // touches no project data (versions, home document, ping): GET / needs no token at all, and
	// a token limited to some queues may use the others
	// allow is Falcon's Allow header of a 405: the served methods sorted, then OPTIONS; optionsAllow is the
	// one of an OPTIONS answer, which leaves OPTIONS out.
	allow, optionsAllow string
}

// routes builds the router. Every path gets its methods plus a catch-all for the others, so that a wrong
// method still runs the hooks before its 405 (Falcon's order), and unknown paths are 404 before any hook.
func (s *Server) routes() *router.Router {
	rr := router.New()
	rr.RedirectTrailingSlash = false // "/v2" is not "/v2/", and Zaqar has no aliases
	rr.RedirectFixedPath = false
	rr.HandleMethodNotAllowed = false
	rr.HandleOPTIONS = false
	rr.NotFound = s.notFound

	add := func(path string, handlers map[string]handlerFunc) {
		rt := &route{
			path:  path,
			v2:    strings.HasPrefix(path, "/v2/"),
			queue: strings.Contains(path, "{queue_name}"),
			admin: path == "/v2/health" || path == revocationsPath,
			open:  path == "/" || path == "/v2/" || path == "/v2/ping",
		}
		methods := make([]string, 0, len(handlers))
		for m := range handlers {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		rt.optionsAllow = strings.Join(methods, ", ")
		rt.allow = strings.Join(append(methods, fasthttp.MethodOptions), ", ")
		for m, h := range handlers {
			rr.Handle(m, path, s.endpoint(rt, h))
		}
		rr.ANY(path, s.otherMethods(rt))
	}

	const (
		get, head, post, put, patch, del = fasthttp.MethodGet, fasthttp.MethodHead, fasthttp.MethodPost,
			fasthttp.MethodPut, fasthttp.MethodPatch, fasthttp.MethodDelete
	)
	add("/", map[string]handlerFunc{get: s.versions})
	add("/v2/", map[string]handlerFunc{get: s.home})
	add("/v2/ping", map[string]handlerFunc{get: s.ping, head: s.pingHead})
	if s.cfg.AdminMode {
		add("/v2/health", map[string]handlerFunc{get: s.health})
	}
	if s.guard.revoked != nil {
		add(revocationsPath, map[string]handlerFunc{get: s.listRevocations, post: s.addRevocation})
	}
	add("/v2/queues", map[string]handlerFunc{get: s.listQueues})
	add("/v2/queues/{queue_name}", map[string]handlerFunc{
		get: s.getQueue, put: s.createQueue, patch: s.patchQueue, del: s.deleteQueue})
	add("/v2/queues/{queue_name}/stats", map[string]handlerFunc{get: s.queueStats})
	add("/v2/queues/{queue_name}/purge", map[string]handlerFunc{post: s.purgeQueue})
	add("/v2/queues/{queue_name}/share", map[string]handlerFunc{post: s.shareQueue})
	add("/v2/queues/{queue_name}/messages", map[string]handlerFunc{
		get: s.getMessages, post: s.postMessages, del: s.deleteMessages})
	add("/v2/queues/{queue_name}/messages/{message_id}", map[string]handlerFunc{
		get: s.getMessage, del: s.deleteMessage})
	add("/v2/queues/{queue_name}/claims", map[string]handlerFunc{post: s.createClaim})
	add("/v2/queues/{queue_name}/claims/{claim_id}", map[string]handlerFunc{
		get: s.getClaim, patch: s.updateClaim, del: s.releaseClaim})
	add("/v2/queues/{queue_name}/subscriptions", map[string]handlerFunc{
		get: s.listSubscriptions, post: s.createSubscription})
	add("/v2/queues/{queue_name}/subscriptions/{subscription_id}", map[string]handlerFunc{
		get: s.getSubscription, patch: s.updateSubscription, del: s.deleteSubscription})
	add("/v2/queues/{queue_name}/subscriptions/{subscription_id}/confirm", map[string]handlerFunc{
		put: s.confirmSubscription})

	if s.ws != nil {
		rr.GET(WebsocketPath, s.ws)
	}

	// Probes for orchestrators: outside /v2, no Zaqar headers, no hooks.
	rr.GET("/healthz", s.probe(false))
	rr.HEAD("/healthz", s.probe(false))
	rr.GET("/readyz", s.probe(true))
	rr.HEAD("/readyz", s.probe(true))
	if s.metrics != nil {
		rr.GET(MetricsPath, s.metrics)
	}
	return rr
}
