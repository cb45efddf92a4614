package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

var (
	errBodyUnparsable = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body",
		Description: "Request body could not be parsed."}
	errBodyIntTooLarge = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body",
		Description: "JSON contains integer that is too large."}
	errBodyNotObject = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body",
		Description: "Document type not supported."}
)

// decodeObject decodes a JSON body as Zaqar's read_json does for the share and revocation routes: invalid
// UTF-8, bad syntax, trailing data and a scalar top level are "could not be parsed", an integer outside
// signed 64 bits is "too large", and (zedge's answer where Zaqar fails with a 500) an array is "Document type
// not supported." Numbers stay json.Number so that their text is what Python would print.
func decodeObject(body []byte) (map[string]any, error) {
	if !utf8.Valid(body) {
		return nil, errBodyUnparsable
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errBodyUnparsable
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errBodyUnparsable // data after the document
	}
	if tooLargeInt(v) {
		return nil, errBodyIntTooLarge
	}
	switch doc := v.(type) {
	case map[string]any:
		return doc, nil
	case []any:
		return nil, errBodyNotObject
	}
	return nil, errBodyUnparsable
}

// tooLargeInt reports whether v holds an integer literal outside int64 (Zaqar's parse_int hook).
func tooLargeInt(v any) bool {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			return false
		}
		_, err := strconv.ParseInt(s, 10, 64)
		return err != nil
	case map[string]any:
		for _, e := range x {
			if tooLargeInt(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if tooLargeInt(e) {
				return true
			}
		}
	}
	return false
}

// validationError turns a signing or revocation validation failure into Zaqar's 400.
func validationError(text string) *Error {
	return &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid API request", Description: text}
}

// shareQueue is POST /v2/queues/{q}/share (spec §6.9): it signs a grant for the caller's project with the
// primary URL-signing key, with Zaqar's checks, texts and response.
func (s *Server) shareQueue(r *request) (reply, error) {
	body, _, err := r.readBody(s.rules.required)
	if err != nil {
		return reply{}, err
	}
	doc, err := decodeObject(body)
	if err != nil {
		return reply{}, err
	}
	su, err := signing.Share(s.guard.ring, r.queue, r.caller.Project, doc, r.now)
	if err != nil {
		var ve *signing.ValidationError
		if errors.As(err, &ve) {
			return reply{}, validationError(ve.Text)
		}
		return reply{}, err
	}
	// Zaqar's to_json: json.dumps with Python's separators. The project is never empty here (X-Project-ID is
	// required), so it is never null.
	r.out = appendPyJSON(r.out[:0], jobj{{"paths", su.Paths}, {"methods", su.Methods}, {"project", su.Project},
		{"expires", signing.FormatExpires(su.Expires)}, {"signature", su.Signature}}, 0, 0)
	return reply{status: fasthttp.StatusOK, body: r.out}, nil
}

// revocationsPath is zedge's admin route for the revocation list (not a Zaqar route).
const revocationsPath = "/v2/revocations"

// listRevocations is GET /v2/revocations (admin): {"revocations": [entries, oldest first]}.
func (s *Server) listRevocations(r *request) (reply, error) {
	out, err := json.Marshal(struct {
		Revocations []revoke.Entry `json:"revocations"`
	}{append([]revoke.Entry{}, s.guard.revoked.Entries()...)})
	if err != nil {
		return reply{}, err
	}
	return reply{status: fasthttp.StatusOK, body: out}, nil
}

var errRevocationStore = &Error{Status: fasthttp.StatusServiceUnavailable, Title: "Service temporarily unavailable",
	Description: "The revocation could not be stored. Please try again in a few seconds."}

// revocationKeys are the members of a POST /v2/revocations body naming what to revoke; exactly one is given.
var revocationKeys = []struct {
	key  string
	kind revoke.Kind
}{
	{"signature", revoke.Signature}, // the URL's signature; only its fingerprint is kept
	{"fingerprint", revoke.Signature},
	{"jti", revoke.TokenID},
	{"subject", revoke.Subject},
}

// addRevocation is POST /v2/revocations (admin). The body names one credential, with an optional expiry
// (when the credential expires on its own, so the entry can be dropped after) and reason:
//
//	{"signature": "<hex>", "expires": "2026-11-23T00:00:00", "reason": "sensor stolen"}
//	{"fingerprint": "<hex sha-256 of the signature>"}
//	{"jti": "<token id>"}
//	{"subject": "thermostat-7"}
//
// It answers 201 with the entry as stored. The change is in force for the next request.
func (s *Server) addRevocation(r *request) (reply, error) {
	body, _, err := r.readBody(s.rules.required)
	if err != nil {
		return reply{}, err
	}
	doc, err := decodeObject(body)
	if err != nil {
		return reply{}, err
	}
	var e revoke.Entry
	var named []string
	for k, v := range doc {
		switch k {
		case "expires", "reason":
			continue
		}
		i := -1
		for j, rk := range revocationKeys {
			if rk.key == k {
				i = j
			}
		}
		if i < 0 {
			return reply{}, validationError("Unknown key: " + strconv.Quote(k))
		}
		str, ok := v.(string)
		if !ok || str == "" {
			return reply{}, validationError(`"` + k + `" must be a non-empty string`)
		}
		named = append(named, k)
		e.Kind, e.ID = revocationKeys[i].kind, str
		if k == "signature" {
			e.ID = signing.Fingerprint(str)
		}
	}
	if len(named) != 1 {
		return reply{}, validationError(`name exactly one of "signature", "fingerprint", "jti", "subject"`)
	}
	if v, ok := doc["reason"]; ok {
		str, ok := v.(string)
		if !ok {
			return reply{}, validationError(`"reason" must be a string`)
		}
		e.Reason = str
	}
	if v, ok := doc["expires"]; ok && v != nil {
		str, ok := v.(string)
		if !ok {
			return reply{}, validationError(`"expires" must be a date string, for example 2016-01-01T00:00:00`)
		}
		// A past expiry is fine (the entry is simply dropped at the next write), so parse against the epoch.
		t, err := signing.ParseExpires(str, time.Time{})
		if err != nil {
			var ve *signing.ValidationError
			if errors.As(err, &ve) {
				return reply{}, validationError(ve.Text)
			}
			return reply{}, validationError(err.Error())
		}
		e.Expires = t
	}
	if err := e.Validate(); err != nil {
		return reply{}, validationError(strings.TrimPrefix(err.Error(), revoke.ErrInvalidEntry.Error()+": "))
	}
	stored, err := s.guard.revoked.Revoke(e, r.now)
	if err != nil {
		if errors.Is(err, revoke.ErrInvalidEntry) {
			return reply{}, validationError(strings.TrimPrefix(err.Error(), revoke.ErrInvalidEntry.Error()+": "))
		}
		s.log.Error("revocation not stored", "err", err, "kind", e.Kind)
		return reply{}, errRevocationStore
	}
	by := "noauth"
	if r.claims != nil {
		by = r.claims.Subject
	}
	s.log.Info("credential revoked", "kind", stored.Kind, "id", stored.ID, "by", by, "request_id", string(r.reqID))
	out, err := json.Marshal(stored)
	if err != nil {
		return reply{}, err
	}
	return reply{status: fasthttp.StatusCreated, body: out}, nil
}
