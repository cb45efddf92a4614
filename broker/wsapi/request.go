package wsapi

import (
	"bytes"
	"encoding/json"
	"github.com/zedge-io/zedge/internal/jsonw"
)

// request is one decoded frame: the envelope's action, headers and body, kept as raw JSON so that the Service
// gets the client's values byte for byte and the response can echo them.
type request struct {
	binary bool

	action     string          // the action when it is a string
	actionRaw  json.RawMessage // echoed: null when absent
	headersRaw json.RawMessage // echoed: {} when absent or null
	bodyRaw    json.RawMessage // echoed: {} when absent or null

	headers map[string]json.RawMessage // nil unless headers is an object
	body    map[string]json.RawMessage // nil unless body is an object
	bodyBad bool                       // body present and not an object (null included)

	// Filled in by the actions from the validated envelope.
	project string
	queue   string
}

var (
	rawNull     = json.RawMessage("null")
	rawEmptyObj = json.RawMessage("{}")
)

// parseRequest splits a frame's JSON into the envelope. ok is false when the frame is not an object.
func parseRequest(doc []byte, binary bool) (*request, bool) {
	trimmed := bytes.TrimLeft(doc, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, false
	}
	r := &request{binary: binary, actionRaw: rawNull, headersRaw: rawEmptyObj, bodyRaw: rawEmptyObj}
	if v, ok := top["action"]; ok {
		r.actionRaw = v
		if kindOf(v) == kindString {
			r.action = rawString(v)
		}
	}
	if v, ok := top["headers"]; ok && !isNull(v) {
		r.headersRaw = v
		if kindOf(v) == kindObject {
			_ = json.Unmarshal(v, &r.headers)
			if r.headers == nil {
				r.headers = map[string]json.RawMessage{}
			}
		}
	}
	if v, ok := top["body"]; ok {
		if kindOf(v) == kindObject {
			r.bodyRaw = v
			_ = json.Unmarshal(v, &r.body)
			if r.body == nil {
				r.body = map[string]json.RawMessage{}
			}
		} else {
			r.bodyBad = true
			if !isNull(v) {
				r.bodyRaw = v
			}
		}
	}
	return r, true
}

// header returns a string header ("" when absent; the schema has checked the type).
func (r *request) header(name string) string { return rawString(r.headers[name]) }

// str returns a string body field ("" when absent).
func (r *request) str(name string) string { return rawString(r.body[name]) }

// has reports whether a body field is present (null counts as present, as in the JSON).
func (r *request) has(name string) bool {
	_, ok := r.body[name]
	return ok
}

// boolField returns a boolean body field and whether it is set.
func (r *request) boolField(name string) (bool, bool) {
	v, ok := r.body[name]
	if !ok {
		return false, false
	}
	return bytes.HasPrefix(bytes.TrimSpace(v), []byte("true")), true
}

// limitField returns an integer limit for the Service: 0 when absent, broker.ZeroLimit-style -1 for an
// explicit 0 or a value beyond int64 (both get the Service's range error), else the value.
func (r *request) limitField(name string) int {
	v, ok := r.body[name]
	if !ok {
		return 0
	}
	n, ok := rawInt(v)
	if !ok || n == 0 || n < -1<<31 || n > 1<<31 {
		return -1
	}
	return int(n)
}

// actionText renders the action of an unknown-action error as Python's format() would.
func actionText(raw json.RawMessage) string {
	switch kindOf(raw) {
	case kindNull, kindInvalid:
		return "None"
	case kindBool:
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("true")) {
			return "True"
		}
		return "False"
	case kindString:
		return rawString(raw)
	}
	return string(bytes.TrimSpace(raw))
}

// Field types of the action schemas (JSON-Schema draft 4 as Zaqar uses it: an "integer" is a number without
// fraction or exponent and never a boolean; null matches no type).
type fieldType uint8

const (
	tString fieldType = iota + 1
	tInt
	tBool
	tArray
	tObject
)

func (t fieldType) matches(v json.RawMessage) bool {
	k := kindOf(v)
	switch t {
	case tString:
		return k == kindString
	case tInt:
		return k == kindInt
	case tBool:
		return k == kindBool
	case tArray:
		return k == kindArray
	case tObject:
		return k == kindObject
	}
	return false
}

type field struct {
	name     string
	typ      fieldType
	required bool
}

// knownHeaders are the header properties of Zaqar's schemas: strings when present.
var knownHeaders = [...]string{"User-Agent", "Date", "Accept", "Client-ID", "X-Project-ID", "X-Auth-Token"}

// schema is an action's JSON schema: required headers, whether a body is required, and typed body fields.
type schema struct {
	headers      []string
	bodyRequired bool
	fields       []field
}

var dataHeaders = []string{"Client-ID", "X-Project-ID"}

// valid applies the schema to the envelope.
func (s *schema) valid(r *request) bool {
	if r.headers == nil {
		return false
	}
	for _, h := range knownHeaders {
		if v, ok := r.headers[h]; ok && kindOf(v) != kindString {
			return false
		}
	}
	for _, h := range s.headers {
		if _, ok := r.headers[h]; !ok {
			return false
		}
	}
	if r.bodyBad {
		return false
	}
	if r.body == nil {
		return !s.bodyRequired
	}
	for _, f := range s.fields {
		v, ok := r.body[f.name]
		if !ok {
			if f.required {
				return false
			}
			continue
		}
		if !f.typ.matches(v) {
			return false
		}
	}
	return true
}

// stringList decodes a JSON array of strings; ok is false when an element is not a string.
func stringList(v json.RawMessage) ([]string, bool) {
	var elems []json.RawMessage
	if json.Unmarshal(v, &elems) != nil {
		return nil, false
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if kindOf(e) != kindString {
			return nil, false
		}
		out[i] = rawString(e)
	}
	return out, true
}

// object builds a JSON object from members given in order; absent (nil) values are left out.
func object(kv ...any) []byte {
	b := []byte{'{'}
	first := true
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := kv[i+1].(json.RawMessage)
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = jsonw.AppendString(b, kv[i].(string))
		b = append(b, ": "...)
		b = append(b, v...)
	}
	return append(b, '}')
}
