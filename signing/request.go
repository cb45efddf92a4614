package signing

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Header names of the Zaqar credential form. Lookups are case-insensitive on the wire; these are Zaqar's
// spellings.
const (
	HeaderSignature = "URL-Signature"
	HeaderExpires   = "URL-Expires"
	HeaderMethods   = "URL-Methods"
	HeaderPaths     = "URL-Paths"
)

// Query parameter names of the plain-URL credential form (zedge only; Zaqar reads headers only).
const (
	QuerySignature = "signature"
	QueryExpires   = "expires"
	QueryMethods   = "methods"
	QueryPaths     = "paths"
)

// Bounds on what a verifier will look at, so a hostile request costs little.
const (
	// MaxCredentialLength bounds each of the four credential values, in bytes.
	MaxCredentialLength = 4096
	// MaxGrantElements bounds the methods and the paths a credential may list.
	MaxGrantElements = 32
)

// Credentials are the four values of a signed request as the client sent them: Methods and Paths
// comma-joined, Expires as returned by the share call.
type Credentials struct {
	Signature string
	Expires   string
	Methods   string
	Paths     string
	// Present reports that at least one of the four values was non-empty: the request means to be a signed
	// one and must then verify (an empty signature is refused, not skipped).
	Present bool
}

func (c Credentials) anySet() bool {
	return c.Signature != "" || c.Expires != "" || c.Methods != "" || c.Paths != ""
}

// CredentialsFromHeaders reads the URL-* headers through get, which returns a header's value or "" (for
// example http.Header.Get, or a fasthttp Peek turned into a string).
func CredentialsFromHeaders(get func(name string) string) Credentials {
	c := Credentials{
		Signature: get(HeaderSignature),
		Expires:   get(HeaderExpires),
		Methods:   get(HeaderMethods),
		Paths:     get(HeaderPaths),
	}
	c.Present = c.anySet()
	return c
}

// CredentialsFromQuery reads the query form through values, which returns every value of a query key (for
// example url.Values indexing, or fasthttp's PeekMulti). Blank values count as absent, as everywhere in the
// API. methods and paths may be comma-joined, repeated, or both; a repeated signature or expires is refused
// with ErrCredentialsMalformed, since it is not clear which one was meant.
func CredentialsFromQuery(values func(key string) []string) (Credentials, error) {
	var c Credentials
	var err error
	if c.Signature, err = singleValue(values(QuerySignature)); err != nil {
		return Credentials{}, fmt.Errorf("%w: %s repeated", ErrCredentialsMalformed, QuerySignature)
	}
	if c.Expires, err = singleValue(values(QueryExpires)); err != nil {
		return Credentials{}, fmt.Errorf("%w: %s repeated", ErrCredentialsMalformed, QueryExpires)
	}
	c.Methods = joinNonBlank(values(QueryMethods))
	c.Paths = joinNonBlank(values(QueryPaths))
	c.Present = c.anySet()
	return c, nil
}

// QueryReader is CredentialsFromQuery for a transport that walks its own parsed query: Add every key and
// decoded value in order, then take Credentials. The rules and errors are the same. A single value of a key
// is kept as it is (no copy, so the result may alias the strings given to Add), and only repeated methods or
// paths are joined into a new string; a QueryReader on the stack costs no allocation.
type QueryReader struct {
	c   Credentials
	err error
}

// Add takes one query parameter; keys other than the four of the credentials are ignored.
func (q *QueryReader) Add(key, value string) {
	if value == "" || q.err != nil {
		return
	}
	switch key {
	case QuerySignature:
		if q.c.Signature != "" {
			q.err = fmt.Errorf("%w: %s repeated", ErrCredentialsMalformed, QuerySignature)
		}
		q.c.Signature = value
	case QueryExpires:
		if q.c.Expires != "" {
			q.err = fmt.Errorf("%w: %s repeated", ErrCredentialsMalformed, QueryExpires)
		}
		q.c.Expires = value
	case QueryMethods:
		q.c.Methods = joinComma(q.c.Methods, value)
	case QueryPaths:
		q.c.Paths = joinComma(q.c.Paths, value)
	}
}

// Credentials returns what the parameters added so far amount to.
func (q *QueryReader) Credentials() (Credentials, error) {
	if q.err != nil {
		return Credentials{}, q.err
	}
	c := q.c
	c.Present = c.anySet()
	return c, nil
}

func joinComma(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// CredentialsFromValues is CredentialsFromQuery over url.Values.
func CredentialsFromValues(q url.Values) (Credentials, error) {
	return CredentialsFromQuery(func(key string) []string { return q[key] })
}

var errRepeated = fmt.Errorf("%w: repeated value", ErrCredentialsMalformed)

func singleValue(vs []string) (string, error) {
	var found string
	for _, v := range vs {
		if v == "" {
			continue
		}
		if found != "" {
			return "", errRepeated
		}
		found = v
	}
	return found, nil
}

func joinNonBlank(vs []string) string {
	var b strings.Builder
	for _, v := range vs {
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(v)
	}
	return b.String()
}

// SignedRequest is what VerifyRequest needs of an incoming request.
type SignedRequest struct {
	// Method is the HTTP method (GET, POST, ...).
	Method string
	// Path is the request path exactly as the router matches it, without the query: the very path the request
	// will act on. A router that matches the raw path needs the raw path here, not a decoded or dot-normalised
	// one, or .../q2/messages/x%2F..%2F..%2F..%2Fq%2Fmessages would read as queue q's.
	Path string
	// Project is the X-Project-ID header; empty when absent (then signed as "None").
	Project string
	Credentials
}

// Verified is the outcome of a successful VerifyRequest.
type Verified struct {
	// Grant is what the URL allows: paths and methods sorted, the expiry in UTC.
	Grant URLGrant
	// KeyID names the ring key that verified the signature.
	KeyID string

	signature string
}

// Fingerprint identifies the signed URL for the server's revocation list and for logs (see Fingerprint).
func (v Verified) Fingerprint() string { return Fingerprint(v.signature) }

// VerifyRequest checks a signed request before any store access, in this order: the method is granted, the
// path is covered, the expiry parses and lies after now, and the signature matches a key of the ring
// (constant-time, primary key first). It returns the first failure as one of ErrNoURLKey,
// ErrSignatureMissing, ErrCredentialsMalformed, ErrMethodNotAllowed, ErrPathNotAllowed, ErrExpiresInvalid,
// ErrSignatureExpired, ErrSignatureMalformed or ErrSignatureMismatch (all a bare 404 in Zaqar's API).
//
// Methods and paths are split on "," without trimming, as Zaqar does. A path is covered when it equals a
// granted path or continues it after a "/" (so .../messages covers .../messages/{id}); unlike Zaqar's
// unanchored regular-expression search, a grant for queue q never covers queue q2 or q.x. A request path
// with empty, "." or ".." segments is never covered. Methods or paths holding a backslash are refused:
// zedge never signs them, and they are what could smuggle a literal \n separator into the signed text.
func VerifyRequest(ring *KeyRing, req SignedRequest, now time.Time) (Verified, error) {
	g, keyID, err := checkRequest(ring, req, now, true)
	if err != nil {
		return Verified{}, err
	}
	return Verified{Grant: g, KeyID: keyID, signature: req.Signature}, nil
}

// CheckRequest is VerifyRequest for the request path: the same checks in the same order with the same errors,
// returning only the id of the key that verified, and allocating nothing for a grant of up to eight methods
// and eight paths. The request's strings are not kept, so they may alias a transport's buffers.
func CheckRequest(ring *KeyRing, req SignedRequest, now time.Time) (keyID string, err error) {
	_, keyID, err = checkRequest(ring, req, now, false)
	return keyID, err
}

// checkRequest does VerifyRequest's work. The methods and paths are split into stack buffers; only with
// keepGrant are they copied out into the returned grant.
func checkRequest(ring *KeyRing, req SignedRequest, now time.Time, keepGrant bool) (URLGrant, string, error) {
	if ring == nil || len(ring.keys) == 0 {
		return URLGrant{}, "", ErrNoURLKey
	}
	c := req.Credentials
	if c.Signature == "" {
		return URLGrant{}, "", ErrSignatureMissing
	}
	if len(c.Signature) > MaxCredentialLength || len(c.Expires) > MaxCredentialLength ||
		len(c.Methods) > MaxCredentialLength || len(c.Paths) > MaxCredentialLength {
		return URLGrant{}, "", fmt.Errorf("%w: value too long", ErrCredentialsMalformed)
	}
	var methodBuf, pathBuf [8]string
	methods, ok1 := splitList(methodBuf[:0], c.Methods)
	paths, ok2 := splitList(pathBuf[:0], c.Paths)
	if !ok1 || !ok2 {
		return URLGrant{}, "", fmt.Errorf("%w: more than %d methods or paths", ErrCredentialsMalformed, MaxGrantElements)
	}
	if !slices.Contains(methods, req.Method) {
		return URLGrant{}, "", ErrMethodNotAllowed
	}
	if !pathCovered(paths, req.Path) {
		return URLGrant{}, "", ErrPathNotAllowed
	}
	if strings.IndexByte(c.Methods, '\\') >= 0 || strings.IndexByte(c.Paths, '\\') >= 0 {
		return URLGrant{}, "", fmt.Errorf("%w: backslash in methods or paths", ErrCredentialsMalformed)
	}
	if c.Expires == "" {
		return URLGrant{}, "", fmt.Errorf("%w: missing", ErrExpiresInvalid)
	}
	expires, err := ParseExpires(c.Expires, now)
	if err != nil {
		if errors.Is(err, ErrExpiresPast) {
			return URLGrant{}, "", ErrSignatureExpired
		}
		return URLGrant{}, "", fmt.Errorf("%w: %s", ErrExpiresInvalid, err.Error())
	}
	var want [sha256.Size]byte
	if !decodeLowerHex(want[:], c.Signature) {
		return URLGrant{}, "", ErrSignatureMalformed
	}
	slices.Sort(methods)
	slices.Sort(paths)
	keyID, ok := ring.matchSignature(paths, methods, req.Project, expires, &want)
	if !ok {
		return URLGrant{}, "", ErrSignatureMismatch
	}
	g := URLGrant{Project: req.Project, Expires: expires}
	if keepGrant {
		g.Paths, g.Methods = slices.Clone(paths), slices.Clone(methods)
	}
	return g, keyID, nil
}

// splitList is Python's s.split(","): n+1 elements for n commas, empty elements kept. It fails past
// MaxGrantElements.
func splitList(dst []string, s string) ([]string, bool) {
	for {
		if len(dst) == MaxGrantElements {
			return nil, false
		}
		i := strings.IndexByte(s, ',')
		if i < 0 {
			return append(dst, s), true
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

// pathCovered reports whether some granted path covers the request path (see VerifyRequest).
func pathCovered(granted []string, path string) bool {
	if !cleanPath(path) {
		return false
	}
	for _, g := range granted {
		if g == "" {
			continue
		}
		if path == g || (len(path) > len(g) && path[len(g)] == '/' && path[:len(g)] == g) {
			return true
		}
	}
	return false
}

// cleanPath reports whether an absolute path has no empty, "." or ".." segment, so that prefix matching
// means what it says. A final "/" (an empty last segment) is also refused.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for p != "" {
		p = p[1:] // drop the "/"
		i := strings.IndexByte(p, '/')
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		if i < 0 {
			return true
		}
		p = p[i:]
	}
	return true
}

// decodeLowerHex decodes exactly len(dst)*2 lower-case hex digits. Zaqar compares the hex strings exactly, so
// upper-case digits do not verify there either.
func decodeLowerHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, lo := lowerHexValues[s[2*i]], lowerHexValues[s[2*i+1]]
		if hi|lo == 0xff {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// lowerHexValues maps '0'-'9' and 'a'-'f' to their values and every other byte to 0xff.
var lowerHexValues = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
	}
	return t
}()

// WebsocketActionMethod maps a websocket action to the HTTP method a signed URL must grant for it. As in
// Zaqar, only message actions map; any other action cannot be done with a signed URL.
func WebsocketActionMethod(action string) (string, bool) {
	switch action {
	case "message_list", "message_get", "message_get_many":
		return "GET", true
	case "message_post":
		return "POST", true
	case "message_delete", "message_delete_many":
		return "DELETE", true
	}
	return "", false
}

// CredentialsFromWebsocket reads the credentials from the headers object of a websocket request (keys
// spelled exactly as the URL-* header names). As in Zaqar, URL-Methods and URL-Paths must be JSON arrays of
// strings: comma-joined strings never verify there, and are refused here with ErrCredentialsMalformed, as are
// elements holding a comma. Zaqar checks no path over websocket; zedge's websocket layer should still pass
// the path of the queue the action names (/v2/queues/{q}/messages[/{id}]) to VerifyRequest, so a grant stays
// within its queue.
func CredentialsFromWebsocket(headers map[string]any) (Credentials, error) {
	str := func(key string) (string, error) {
		switch v := headers[key].(type) {
		case nil:
			return "", nil
		case string:
			return v, nil
		}
		return "", fmt.Errorf("%w: %s is not a string", ErrCredentialsMalformed, key)
	}
	list := func(key string) (string, error) {
		v, present := headers[key]
		if !present || v == nil {
			return "", nil
		}
		elems, ok := v.([]any)
		if !ok {
			return "", fmt.Errorf("%w: %s is not a list", ErrCredentialsMalformed, key)
		}
		parts := make([]string, len(elems))
		for i, e := range elems {
			s, ok := e.(string)
			if !ok || strings.IndexByte(s, ',') >= 0 {
				return "", fmt.Errorf("%w: %s holds a non-string or a comma", ErrCredentialsMalformed, key)
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	}
	var c Credentials
	var err error
	if c.Signature, err = str(HeaderSignature); err != nil {
		return Credentials{}, err
	}
	if c.Expires, err = str(HeaderExpires); err != nil {
		return Credentials{}, err
	}
	if c.Methods, err = list(HeaderMethods); err != nil {
		return Credentials{}, err
	}
	if c.Paths, err = list(HeaderPaths); err != nil {
		return Credentials{}, err
	}
	c.Present = c.anySet()
	return c, nil
}
