package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// URLGrant is what a signed URL allows: the methods on the paths of one project until the expiry.
type URLGrant struct {
	// Paths are full URL paths such as /v2/queues/q/messages. A request path is covered when it equals a path
	// or continues it after a "/".
	Paths []string
	// Methods are HTTP methods, compared exactly. Empty means ["GET"] when signing.
	Methods []string
	// Project is the X-Project-ID the grant is bound to. Empty means none and is signed as the text "None".
	Project string
	// Expires is the instant the grant ends; only whole seconds in UTC are signed.
	Expires time.Time
}

// canonicalSeparator is the two characters backslash and n. Zaqar builds the signed text with a raw string
// literal, so the separator is literally `\n`, never a newline byte.
const canonicalSeparator = `\n`

// CanonicalString is the exact text Zaqar signs for g:
//
//	<sorted paths joined by ","> \n <sorted methods joined by ","> \n <project or None> \n <YYYY-MM-DDTHH:MM:SS>
//
// where each \n is the two characters backslash and n. Sorting is plain byte order; g is not modified.
// Methods are taken as given (the default ["GET"] is applied by KeyRing.Sign, not here).
func CanonicalString(g URLGrant) string {
	paths := slices.Clone(g.Paths)
	methods := slices.Clone(g.Methods)
	slices.Sort(paths)
	slices.Sort(methods)
	return string(appendCanonical(nil, paths, methods, g.Project, g.Expires))
}

// appendCanonical appends the canonical text for already-sorted paths and methods.
func appendCanonical(b []byte, sortedPaths, sortedMethods []string, project string, expires time.Time) []byte {
	b = appendJoined(b, sortedPaths)
	b = append(b, canonicalSeparator...)
	b = appendJoined(b, sortedMethods)
	b = append(b, canonicalSeparator...)
	if project == "" {
		b = append(b, "None"...)
	} else {
		b = append(b, project...)
	}
	b = append(b, canonicalSeparator...)
	return appendExpires(b, expires.UTC())
}

func appendJoined(b []byte, elems []string) []byte {
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return b
}

// Sign is Zaqar's signature of g under key: lower-case hex of HMAC-SHA256 over CanonicalString(g). It signs
// whatever g holds; KeyRing.Sign is the checked way to issue a grant.
func Sign(key []byte, g URLGrant) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(CanonicalString(g)))
	return hex.EncodeToString(mac.Sum(nil))
}

// Fingerprint is a stable, non-reversible identifier of a signed URL (hex SHA-256 of its signature), safe to
// persist in a revocation list and to log. A URL re-signed with another key has another fingerprint.
func Fingerprint(signature string) string {
	sum := sha256.Sum256([]byte(signature))
	return hex.EncodeToString(sum[:])
}

// URLKey is one URL-signing secret and the id operators use to name it. Zaqar-form URLs carry no key id: the
// id only tells which key verified a request (logs, metrics) and which one to retire.
type URLKey struct {
	ID     string
	Secret []byte
}

// MaxURLKeys bounds the keys a KeyRing holds, and so the HMACs a forged request can cost.
const MaxURLKeys = 8

// KeyRing holds the URL-signing secrets: one primary that signs, and older ones that still verify until they
// are removed (see the rotation procedure in the package documentation). A KeyRing is immutable and safe
// for concurrent use; rotate by building a new one and swapping it in.
type KeyRing struct {
	keys []*ringKey // primary first
}

type ringKey struct {
	id  string
	mac sync.Pool // of *macState, each holding an HMAC keyed with this key's secret
}

type macState struct {
	mac hash.Hash
	buf []byte // canonical text scratch
	sum [sha256.Size]byte
}

// NewKeyRing builds a ring whose primary key is primary and which also accepts signatures made with others.
// Ids must be non-empty and distinct, secrets non-empty, and there may be at most MaxURLKeys keys. The
// secrets are copied.
func NewKeyRing(primary URLKey, others ...URLKey) (*KeyRing, error) {
	all := append([]URLKey{primary}, others...)
	if len(all) > MaxURLKeys {
		return nil, fmt.Errorf("%w: %d url keys, at most %d", ErrInvalidKey, len(all), MaxURLKeys)
	}
	r := &KeyRing{keys: make([]*ringKey, 0, len(all))}
	for _, k := range all {
		switch {
		case k.ID == "":
			return nil, fmt.Errorf("%w: url key without id", ErrInvalidKey)
		case len(k.Secret) == 0:
			return nil, fmt.Errorf("%w: url key %q has an empty secret", ErrInvalidKey, k.ID)
		case slices.ContainsFunc(r.keys, func(rk *ringKey) bool { return rk.id == k.ID }):
			return nil, fmt.Errorf("%w: url key id %q used twice", ErrInvalidKey, k.ID)
		}
		secret := slices.Clone(k.Secret)
		rk := &ringKey{id: k.ID}
		rk.mac.New = func() any { return &macState{mac: hmac.New(sha256.New, secret), buf: make([]byte, 0, 256)} }
		r.keys = append(r.keys, rk)
	}
	return r, nil
}

// PrimaryID is the id of the key that signs ("" for a ring not built by NewKeyRing).
func (r *KeyRing) PrimaryID() string {
	if r == nil || len(r.keys) == 0 {
		return ""
	}
	return r.keys[0].id
}

// IDs lists the key ids, primary first.
func (r *KeyRing) IDs() []string {
	if r == nil {
		return nil
	}
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// Sign issues a signed URL for g with the primary key. Paths and methods come back sorted, the expiry in
// whole UTC seconds, and no methods means ["GET"]. It refuses grants a verifier could misread: no paths,
// an empty path or method, a comma or backslash in either (a comma would split differently on the way back,
// a backslash could forge the literal \n separator), more than MaxGrantElements paths or methods or more than
// MaxCredentialLength bytes of either joined (VerifyRequest refuses those credentials, so the URL would never
// work), and a zero expiry or one outside years 1..9999. A nil
// ring fails with ErrKeyMissing ("The `key` can't be None").
func (r *KeyRing) Sign(g URLGrant) (SignedURL, error) {
	if r == nil || len(r.keys) == 0 {
		return SignedURL{}, invalid(ErrKeyMissing, "The `key` can't be None")
	}
	g, err := normaliseGrant(g)
	if err != nil {
		return SignedURL{}, err
	}
	k := r.keys[0]
	st := k.mac.Get().(*macState)
	defer k.mac.Put(st)
	st.buf = appendCanonical(st.buf[:0], g.Paths, g.Methods, g.Project, g.Expires)
	return SignedURL{URLGrant: g, Signature: hex.EncodeToString(st.macSum()), KeyID: k.id}, nil
}

// macSum is the HMAC of st.buf.
func (st *macState) macSum() []byte {
	st.mac.Reset()
	st.mac.Write(st.buf)
	return st.mac.Sum(st.sum[:0])
}

func normaliseGrant(g URLGrant) (URLGrant, error) {
	if len(g.Paths) == 0 {
		return g, invalid(ErrPathsNotList, "`paths` must be a non-empty list")
	}
	for _, p := range g.Paths {
		if p == "" || strings.ContainsAny(p, `,\`) {
			return g, invalid(ErrInvalidPaths, "Invalid paths: "+pySetRepr([]any{p}))
		}
	}
	methods := g.Methods
	if len(methods) == 0 {
		methods = []string{"GET"}
	}
	for _, m := range methods {
		if m == "" || strings.ContainsAny(m, `,\`) {
			return g, invalid(ErrMethodsInvalid, "Invalid methods: "+pySetRepr([]any{m}))
		}
	}
	// What VerifyRequest would refuse as malformed must not be signed: that URL would never work.
	if len(g.Paths) > MaxGrantElements || joinedLen(g.Paths) > MaxCredentialLength {
		return g, invalid(ErrInvalidPaths, fmt.Sprintf("Invalid paths: at most %d paths of %d bytes together",
			MaxGrantElements, MaxCredentialLength))
	}
	if len(methods) > MaxGrantElements || joinedLen(methods) > MaxCredentialLength {
		return g, invalid(ErrMethodsInvalid, fmt.Sprintf("Invalid methods: at most %d methods of %d bytes together",
			MaxGrantElements, MaxCredentialLength))
	}
	if g.Expires.IsZero() {
		return g, invalid(ErrExpiresUnparsable, "expires missing")
	}
	exp := g.Expires.UTC().Truncate(time.Second)
	if exp.Year() < 1 || exp.Year() > 9999 {
		return g, invalid(ErrExpiresUnparsable, "date value out of range")
	}
	out := URLGrant{Paths: slices.Clone(g.Paths), Methods: slices.Clone(methods), Project: g.Project, Expires: exp}
	slices.Sort(out.Paths)
	slices.Sort(out.Methods)
	return out, nil
}

// joinedLen is the length of elems joined by ",", as a client sends them back.
func joinedLen(elems []string) int {
	n := max(len(elems)-1, 0)
	for _, e := range elems {
		n += len(e)
	}
	return n
}

// matchSignature builds the canonical text of the sorted fields once and tries each key on it, primary first,
// returning the id of the one whose HMAC equals want. Every comparison is constant-time.
func (r *KeyRing) matchSignature(sortedPaths, sortedMethods []string, project string, expires time.Time,
	want *[sha256.Size]byte) (string, bool) {
	first := r.keys[0].mac.Get().(*macState)
	defer r.keys[0].mac.Put(first)
	first.buf = appendCanonical(first.buf[:0], sortedPaths, sortedMethods, project, expires)
	if hmac.Equal(first.macSum(), want[:]) {
		return r.keys[0].id, true
	}
	for _, k := range r.keys[1:] {
		st := k.mac.Get().(*macState)
		st.mac.Reset()
		st.mac.Write(first.buf)
		ok := hmac.Equal(st.mac.Sum(st.sum[:0]), want[:])
		k.mac.Put(st)
		if ok {
			return k.id, true
		}
	}
	return "", false
}

// SignedURL is an issued grant with its signature: the body of Zaqar's share response and the values a
// client sends back as credentials.
type SignedURL struct {
	URLGrant
	// Signature is the lower-case hex HMAC; it is a bearer credential, never log it (log Fingerprint).
	Signature string
	// KeyID names the key that signed; it is not part of the wire form.
	KeyID string
}

// MarshalJSON writes Zaqar's share response: paths, methods, project (null when none), expires, signature.
func (s SignedURL) MarshalJSON() ([]byte, error) {
	var project any
	if s.Project != "" {
		project = s.Project
	}
	return json.Marshal(struct {
		Paths     []string `json:"paths"`
		Methods   []string `json:"methods"`
		Project   any      `json:"project"`
		Expires   string   `json:"expires"`
		Signature string   `json:"signature"`
	}{s.Paths, s.Methods, project, FormatExpires(s.Expires), s.Signature})
}

// Credentials are the values a client sends back with a request: the URL-* headers or the query form.
func (s SignedURL) Credentials() Credentials {
	return Credentials{
		Signature: s.Signature,
		Expires:   FormatExpires(s.Expires),
		Methods:   strings.Join(s.Methods, ","),
		Paths:     strings.Join(s.Paths, ","),
		Present:   true,
	}
}

// Query is the query-string form of the credentials (signature, expires, methods, paths), for handing a
// device one plain URL.
func (s SignedURL) Query() url.Values {
	c := s.Credentials()
	return url.Values{
		QuerySignature: {c.Signature},
		QueryExpires:   {c.Expires},
		QueryMethods:   {c.Methods},
		QueryPaths:     {c.Paths},
	}
}
