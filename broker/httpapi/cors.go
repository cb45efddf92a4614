package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// CORS header names.
const (
	hdrOrigin                = "Origin"
	hdrVary                  = "Vary"
	hdrRequestMethod         = "Access-Control-Request-Method"
	hdrRequestHeaders        = "Access-Control-Request-Headers"
	hdrAllowOrigin           = "Access-Control-Allow-Origin"
	hdrAllowMethods          = "Access-Control-Allow-Methods"
	hdrAllowHeaders          = "Access-Control-Allow-Headers"
	hdrAllowCredentials      = "Access-Control-Allow-Credentials"
	hdrExposeHeaders         = "Access-Control-Expose-Headers"
	hdrMaxAge                = "Access-Control-Max-Age"
	corsAnyOrigin            = "*"
	maxCORSMaxAge            = 24 * time.Hour // Firefox's cap; Chromium caps at 2 h
	defaultCORSMaxAge        = 10 * time.Minute
	corsAllowCredentialsTrue = "true"
)

// Response header keys in fasthttp's canonical form, for SetCanonical: the layer sets up to six headers on
// every response, and normalizing their names each time would be a third of its cost.
var (
	keyVary             = []byte(hdrVary)
	keyAllowOrigin      = []byte(hdrAllowOrigin)
	keyAllowMethods     = []byte(hdrAllowMethods)
	keyAllowHeaders     = []byte(hdrAllowHeaders)
	keyAllowCredentials = []byte(hdrAllowCredentials)
	keyExposeHeaders    = []byte(hdrExposeHeaders)
	keyMaxAge           = []byte(hdrMaxAge)
	valOrigin           = []byte(hdrOrigin)
	valAnyOrigin        = []byte(corsAnyOrigin)
	valTrue             = []byte(corsAllowCredentialsTrue)
)

// corsMethods are the methods Zaqar's CORS layer allows, and the only ones the API serves besides OPTIONS.
var corsMethods = []string{
	fasthttp.MethodGet, fasthttp.MethodPut, fasthttp.MethodPost,
	fasthttp.MethodDelete, fasthttp.MethodPatch, fasthttp.MethodHead,
}

// CORSConfig is the cross-origin policy of the REST API (Zaqar's oslo.middleware CORS layer). It is off, and
// costs nothing, unless AllowedOrigins names at least one origin.
type CORSConfig struct {
	// AllowedOrigins are the origins (scheme://host[:port], as browsers send them in Origin) whose pages may
	// call the API, or the single entry "*" for any origin. Empty: CORS is off.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowedHeaders are the request headers a page may send (matched case-insensitively). The default is
	// Zaqar's list plus the headers zedge's clients send (Authorization, X-Project-ID, Content-Type, Accept,
	// the URL-* signed-URL headers); a configured list replaces it.
	AllowedHeaders []string `yaml:"allowed_headers"`
	// ExposeHeaders are the response headers a page may read besides the CORS-safelisted ones. The default is
	// Zaqar's list plus Location, Allow and WWW-Authenticate; a configured list replaces it.
	ExposeHeaders []string `yaml:"expose_headers"`
	// AllowedMethods are the methods a page may use: a subset of GET, PUT, POST, DELETE, PATCH, HEAD.
	AllowedMethods []string `yaml:"allowed_methods"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true, letting pages send cookies and HTTP
	// authentication (fetch's credentials: "include"). Bearer tokens set by a script do not need it.
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge is how long a browser may cache a preflight answer, in whole seconds (0: no Access-Control-Max-Age,
	// the browser's default of 5 s). At most 24h.
	MaxAge time.Duration `yaml:"max_age"`
}

// DefaultCORSConfig returns CORS off, with Zaqar's lists extended by the headers zedge's clients use, so that
// naming the origins is all an operator has to do.
func DefaultCORSConfig() CORSConfig {
	return CORSConfig{
		AllowedOrigins: []string{},
		AllowedHeaders: []string{
			// Zaqar's defaults.
			"X-Auth-Token", "X-Identity-Status", "X-Roles", "X-Service-Catalog", "X-User-Id", "X-Tenant-Id",
			"X-OpenStack-Request-ID", "X-Trace-Info", "X-Trace-HMAC", "Client-ID",
			// What zedge's clients send besides.
			"Authorization", "X-Project-ID", "Content-Type", "Accept",
			"URL-Signature", "URL-Expires", "URL-Methods", "URL-Paths",
		},
		ExposeHeaders: []string{
			// Zaqar's defaults.
			"X-Auth-Token", "X-Subject-Token", "X-Service-Token", "X-OpenStack-Request-ID",
			// What zedge's responses carry that clients read.
			"Location", "Allow", "WWW-Authenticate",
		},
		AllowedMethods: slices.Clone(corsMethods),
		MaxAge:         defaultCORSMaxAge,
	}
}

// Enabled reports whether CORS is on.
func (c CORSConfig) Enabled() bool { return len(c.AllowedOrigins) > 0 }

// Validate checks every list, also while CORS is off, so that turning it on cannot reveal an old mistake.
func (c CORSConfig) Validate() error {
	var errs []error
	for _, o := range c.AllowedOrigins {
		if o == corsAnyOrigin {
			if len(c.AllowedOrigins) > 1 {
				errs = append(errs, errors.New(`http.cors.allowed_origins: "*" must be the only entry`))
			}
			continue
		}
		if _, err := normalizeOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("http.cors.allowed_origins: %w", err))
		}
	}
	for _, h := range c.AllowedHeaders {
		if !isToken(h) {
			errs = append(errs, fmt.Errorf("http.cors.allowed_headers: %q is not a header name", h))
		}
	}
	for _, h := range c.ExposeHeaders {
		if !isToken(h) {
			errs = append(errs, fmt.Errorf("http.cors.expose_headers: %q is not a header name", h))
		}
	}
	for _, m := range c.AllowedMethods {
		if !slices.Contains(corsMethods, m) {
			errs = append(errs, fmt.Errorf("http.cors.allowed_methods: %q is not one of %s", m,
				strings.Join(corsMethods, ", ")))
		}
	}
	if c.MaxAge < 0 || c.MaxAge > maxCORSMaxAge {
		errs = append(errs, fmt.Errorf("http.cors.max_age must be between 0 and %v, got %v", maxCORSMaxAge, c.MaxAge))
	}
	return errors.Join(errs...)
}

// normalizeOrigin checks a configured origin and returns it as a browser serializes it: scheme and host in
// lower case, without the scheme's default port.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", fmt.Errorf("%q is not an origin: %w", o, err)
	}
	switch {
	case o == "null":
		return "", errors.New(`"null" is not allowed: sandboxed and file pages share it, so it identifies no site`)
	case u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("%q is not an origin: want scheme://host[:port]", o)
	case u.User != nil:
		return "", fmt.Errorf("%q is not an origin: it has user information", o)
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(o, "#"):
		return "", fmt.Errorf("%q is not an origin: an origin has no path (not even a trailing /), query or fragment", o)
	case u.Hostname() == "":
		return "", fmt.Errorf("%q is not an origin: no host", o)
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q is not an origin: bad port %q", o, p)
		}
		if !(scheme == "http" && n == 80 || scheme == "https" && n == 443) {
			host += ":" + strconv.Itoa(n)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%q is not an origin: empty port", o)
	}
	return scheme + "://" + host, nil
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), what a header name is.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// cors is a validated CORSConfig with every response value joined in advance, so that a request costs header
// lookups and sets, and no allocation of its own.
type cors struct {
	anyOrigin   bool
	origins     map[string]struct{} // normalized
	methods     []string
	headers     []string
	credentials bool

	allowMethods  []byte
	exposeHeaders []byte // nil sends none
	maxAge        []byte // nil sends none
}

// newCORS prepares a validated configuration; it returns nil when CORS is off.
func newCORS(c CORSConfig) *cors {
	if !c.Enabled() {
		return nil
	}
	p := &cors{
		origins:      make(map[string]struct{}, len(c.AllowedOrigins)),
		methods:      slices.Clone(c.AllowedMethods),
		headers:      slices.Clone(c.AllowedHeaders),
		credentials:  c.AllowCredentials,
		allowMethods: []byte(strings.Join(c.AllowedMethods, ", ")),
	}
	if len(c.ExposeHeaders) > 0 {
		p.exposeHeaders = []byte(strings.Join(c.ExposeHeaders, ", "))
	}
	for _, o := range c.AllowedOrigins {
		if o == corsAnyOrigin {
			p.anyOrigin = true
			continue
		}
		n, _ := normalizeOrigin(o) // validated
		p.origins[n] = struct{}{}
	}
	if secs := int64(c.MaxAge / time.Second); secs > 0 {
		p.maxAge = strconv.AppendInt(nil, secs, 10)
	}
	return p
}

// originAllowed reports whether a request's Origin may use the API.
func (p *cors) originAllowed(origin []byte) bool {
	if len(origin) == 0 {
		return false
	}
	if p.anyOrigin {
		return true
	}
	_, ok := p.origins[string(origin)] // no allocation: the compiler looks the bytes up in place
	return ok
}

// preflightAllowed reports whether a preflight may be granted: the method it asks for is allowed and so is
// every header it names (a comma-separated list, compared case-insensitively).
func (p *cors) preflightAllowed(method, headers []byte) bool {
	if !containsBytes(p.methods, method, false) {
		return false
	}
	for len(headers) > 0 {
		name := headers
		if i := bytes.IndexByte(headers, ','); i >= 0 {
			name, headers = headers[:i], headers[i+1:]
		} else {
			headers = nil
		}
		name = bytes.Trim(name, " \t")
		if len(name) > 0 && !containsBytes(p.headers, name, true) {
			return false
		}
	}
	return true
}

// containsBytes reports whether list holds b, compared exactly or ASCII-case-insensitively, without
// converting b to a string.
func containsBytes(list []string, b []byte, fold bool) bool {
	for _, s := range list {
		if len(s) != len(b) {
			continue
		}
		if !fold {
			if s == string(b) {
				return true
			}
			continue
		}
		i := 0
		for ; i < len(s); i++ {
			x, y := s[i], b[i]
			if 'A' <= x && x <= 'Z' {
				x += 'a' - 'A'
			}
			if 'A' <= y && y <= 'Z' {
				y += 'a' - 'A'
			}
			if x != y {
				break
			}
		}
		if i == len(s) {
			return true
		}
	}
	return false
}

// setAllowOrigin answers an allowed origin. With credentials the Fetch standard forbids "*", so the origin is
// echoed even when any origin is allowed.
func (p *cors) setAllowOrigin(h *fasthttp.ResponseHeader, origin []byte) {
	if p.anyOrigin && !p.credentials {
		h.SetCanonical(keyAllowOrigin, valAnyOrigin)
	} else {
		h.SetCanonical(keyAllowOrigin, origin)
	}
	if p.credentials {
		h.SetCanonical(keyAllowCredentials, valTrue)
	}
}

// handler wraps the API. A granted preflight is answered here, before authentication and routing: a browser
// sends it without credentials and it must not meet a 401. Everything else goes to next, and a request from
// an allowed origin gets its CORS headers after next has written the response, so that errors carry them too
// and a page can read the error body. A refused preflight goes to next unchanged and gets no CORS headers, so
// the browser refuses the request it was asking for.
//
// Every response carries Vary: Origin, also without CORS headers: whether it has them depends on Origin, and
// a shared cache must not hand one origin's answer to another.
func (p *cors) handler(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		origin := ctx.Request.Header.Peek(hdrOrigin)
		allowed := p.originAllowed(origin)
		if allowed && ctx.IsOptions() {
			if method := ctx.Request.Header.Peek(hdrRequestMethod); len(method) > 0 {
				if p.preflightAllowed(method, ctx.Request.Header.Peek(hdrRequestHeaders)) {
					p.preflight(ctx, origin)
					return
				}
				allowed = false
			}
		}
		next(ctx)
		h := &ctx.Response.Header
		h.SetCanonical(keyVary, valOrigin) // Set, not Add: the API sends no Vary of its own
		if !allowed {
			return
		}
		p.setAllowOrigin(h, origin)
		if p.exposeHeaders != nil {
			h.SetCanonical(keyExposeHeaders, p.exposeHeaders)
		}
	}
}

// preflight grants a preflight: 200 with an empty body, as Zaqar's CORS layer answers.
func (p *cors) preflight(ctx *fasthttp.RequestCtx, origin []byte) {
	ctx.SetStatusCode(fasthttp.StatusOK)
	h := &ctx.Response.Header
	h.SetNoDefaultContentType(true)
	p.setAllowOrigin(h, origin)
	h.SetCanonical(keyAllowMethods, p.allowMethods)
	if requested := ctx.Request.Header.Peek(hdrRequestHeaders); len(requested) > 0 {
		h.SetCanonical(keyAllowHeaders, requested) // only allowed names, checked by preflightAllowed
	}
	if p.maxAge != nil {
		h.SetCanonical(keyMaxAge, p.maxAge)
	}
	h.SetCanonical(keyVary, valOrigin)
}
