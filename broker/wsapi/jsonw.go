package wsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
)

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// rawKind classifies a raw JSON value by its first byte (the value is known to be valid JSON).
type rawKind uint8

const (
	kindInvalid rawKind = iota
	kindNull
	kindBool
	kindInt // a number literal without fraction or exponent (Python's int; jsonschema's "integer")
	kindFloat
	kindString
	kindArray
	kindObject
)

func kindOf(v json.RawMessage) rawKind {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return kindInvalid
	}
	switch v[0] {
	case 'n':
		return kindNull
	case 't', 'f':
		return kindBool
	case '"':
		return kindString
	case '[':
		return kindArray
	case '{':
		return kindObject
	}
	if bytes.ContainsAny(v, ".eE") {
		return kindFloat
	}
	return kindInt
}

// rawString decodes a raw JSON string value ("" for anything else).
func rawString(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// rawInt decodes a raw integer; ok is false when it does not fit in an int64.
func rawInt(v json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	return n, err == nil
}

// isNull reports an absent or null value.
func isNull(v json.RawMessage) bool { return len(v) == 0 || kindOf(v) == kindNull }

// jsonToMsgpack transcodes a JSON document (written by this package, so valid) to MessagePack, keeping map
// order: integer literals become msgpack integers (uint64 when above int64, a float beyond that), other
// numbers floats.
func jsonToMsgpack(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var buf bytes.Buffer
	buf.Grow(len(doc))
	enc := msgpack.NewEncoder(&buf)
	if err := encodeJSONValue(dec, enc, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var errTooDeep = errors.New("wsapi: document nests too deeply")

// encodeJSONValue encodes the next value of dec. Objects and arrays are collected first, because msgpack
// writes a length before the elements.
func encodeJSONValue(dec *json.Decoder, enc *msgpack.Encoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return encodeToken(dec, enc, tok, depth)
}

func encodeToken(dec *json.Decoder, enc *msgpack.Encoder, tok json.Token, depth int) error {
	switch t := tok.(type) {
	case nil:
		return enc.EncodeNil()
	case bool:
		return enc.EncodeBool(t)
	case string:
		return enc.EncodeString(t)
	case json.Number:
		s := string(t)
		if !bytes.ContainsAny([]byte(s), ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return enc.EncodeInt(n)
			}
			if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				return enc.EncodeUint(n)
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return err
		}
		return enc.EncodeFloat64(f)
	case json.Delim:
		if depth >= maxNesting*2 {
			return errTooDeep
		}
		// Collect the elements as raw JSON, then encode each one.
		var elems []json.RawMessage
		var keys []string
		object := t == '{'
		for dec.More() {
			if object {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				ks, _ := k.(string)
				keys = append(keys, ks)
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			elems = append(elems, raw)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
		if object {
			if err := enc.EncodeMapLen(len(elems)); err != nil {
				return err
			}
		} else if err := enc.EncodeArrayLen(len(elems)); err != nil {
			return err
		}
		for i, raw := range elems {
			if object {
				if err := enc.EncodeString(keys[i]); err != nil {
					return err
				}
			}
			sub := json.NewDecoder(bytes.NewReader(raw))
			sub.UseNumber()
			if err := encodeJSONValue(sub, enc, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New("wsapi: unexpected JSON token")
}
