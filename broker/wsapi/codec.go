package wsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/zedge-io/zedge/internal/jsonw"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The wire carries JSON in text frames and MessagePack in binary frames. Inside, everything is JSON: a binary
// frame is transcoded to JSON on the way in (map order kept, so message bodies keep their key order) and the
// response is transcoded back on the way out. Message bodies therefore reach the Service as raw JSON whatever
// the frame type, and a msgpack client gets msgpack types back (an integer stays an integer, 1.0 a float).

// maxNesting bounds how deep a frame may nest arrays and maps (Python's json and msgpack stop far earlier
// than a Go stack would; this keeps a hostile frame cheap).
const maxNesting = 256

// decodeError is a frame that cannot be decoded; Text is the part after "Can't decode ... request. ".
type decodeError struct{ Text string }

func (e *decodeError) Error() string { return e.Text }

// frameJSON returns the JSON text of a frame: a text frame as it is (after checking it is UTF-8 JSON), a binary
// frame transcoded from MessagePack.
func frameJSON(data []byte, binary bool) ([]byte, error) {
	if binary {
		return msgpackToJSON(data)
	}
	if !utf8.Valid(data) {
		return nil, &decodeError{"UnicodeDecodeError: 'utf-8' codec can't decode the frame: invalid UTF-8"}
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		text := "invalid JSON"
		if err != nil {
			text = err.Error()
		}
		return nil, &decodeError{"JSONDecodeError: " + text}
	}
	if depthExceeded(data) {
		return nil, &decodeError{"RecursionError: maximum recursion depth exceeded while decoding a JSON array or object"}
	}
	return data, nil
}

// depthExceeded reports whether valid JSON nests deeper than maxNesting.
func depthExceeded(data []byte) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > maxNesting {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// msgpackToJSON transcodes one MessagePack value to JSON, keeping map order. Map keys must be strings; bin
// values must hold UTF-8 text (they become strings); extension types, NaN and infinities have no JSON form and
// are refused, as are trailing bytes.
func msgpackToJSON(data []byte) ([]byte, error) {
	r := &sliceReader{b: data}
	d := msgpack.NewDecoder(r)
	out := make([]byte, 0, len(data)+len(data)/2+16)
	out, err := transcodeValue(d, r, out, 0)
	if err != nil {
		var de *decodeError
		if errors.As(err, &de) {
			return nil, err
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &decodeError{"ValueError: Unpack failed: incomplete input"}
		}
		return nil, &decodeError{"ValueError: " + err.Error()}
	}
	if r.off < len(r.b) {
		return nil, &decodeError{"ExtraData: unpack(b) received extra data."}
	}
	return out, nil
}

func transcodeValue(d *msgpack.Decoder, r *sliceReader, out []byte, depth int) ([]byte, error) {
	c, err := d.PeekCode()
	if err != nil {
		return out, err
	}
	switch {
	case c == msgpcode.Nil:
		if err := d.DecodeNil(); err != nil {
			return out, err
		}
		return append(out, "null"...), nil
	case c == msgpcode.True || c == msgpcode.False:
		v, err := d.DecodeBool()
		if err != nil {
			return out, err
		}
		return strconv.AppendBool(out, v), nil
	case msgpcode.IsFixedNum(c) || c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 || c == msgpcode.Int64 ||
		c == msgpcode.Uint8 || c == msgpcode.Uint16 || c == msgpcode.Uint32:
		v, err := d.DecodeInt64()
		if err != nil {
			return out, err
		}
		return strconv.AppendInt(out, v, 10), nil
	case c == msgpcode.Uint64:
		v, err := d.DecodeUint64()
		if err != nil {
			return out, err
		}
		return strconv.AppendUint(out, v, 10), nil
	case c == msgpcode.Float:
		v, err := d.DecodeFloat32()
		if err != nil {
			return out, err
		}
		return appendFloat(out, float64(v), 32)
	case c == msgpcode.Double:
		v, err := d.DecodeFloat64()
		if err != nil {
			return out, err
		}
		return appendFloat(out, v, 64)
	case msgpcode.IsString(c) || msgpcode.IsBin(c):
		n, err := d.DecodeBytesLen()
		if err != nil {
			return out, err
		}
		if n < 0 || n > len(r.b)-r.off {
			return out, io.ErrUnexpectedEOF
		}
		b := r.b[r.off : r.off+n]
		r.off += n
		if !utf8.Valid(b) {
			return out, &decodeError{"UnicodeDecodeError: 'utf-8' codec can't decode a string: invalid UTF-8"}
		}
		return jsonw.AppendString(out, string(b)), nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		if depth >= maxNesting {
			return out, &decodeError{"ValueError: too deeply nested"}
		}
		n, err := d.DecodeArrayLen()
		if err != nil {
			return out, err
		}
		out = append(out, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				out = append(out, ", "...)
			}
			if out, err = transcodeValue(d, r, out, depth+1); err != nil {
				return out, err
			}
		}
		return append(out, ']'), nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		if depth >= maxNesting {
			return out, &decodeError{"ValueError: too deeply nested"}
		}
		n, err := d.DecodeMapLen()
		if err != nil {
			return out, err
		}
		out = append(out, '{')
		for i := 0; i < n; i++ {
			if i > 0 {
				out = append(out, ", "...)
			}
			kc, err := d.PeekCode()
			if err != nil {
				return out, err
			}
			if !msgpcode.IsString(kc) && !msgpcode.IsBin(kc) {
				return out, &decodeError{"TypeError: map keys must be strings"}
			}
			if out, err = transcodeValue(d, r, out, depth+1); err != nil {
				return out, err
			}
			out = append(out, ": "...)
			if out, err = transcodeValue(d, r, out, depth+1); err != nil {
				return out, err
			}
		}
		return append(out, '}'), nil
	}
	return out, &decodeError{fmt.Sprintf("ValueError: unsupported MessagePack type 0x%02x (extension types have no JSON form)", c)}
}

// sliceReader reads a frame in place. It is an io.ByteScanner, so the msgpack decoder reads from it directly
// (no read-ahead buffer) and the transcoder can take strings straight from the slice.
type sliceReader struct {
	b   []byte
	off int
}

func (r *sliceReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *sliceReader) ReadByte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *sliceReader) UnreadByte() error {
	if r.off == 0 {
		return errors.New("wsapi: unread at start")
	}
	r.off--
	return nil
}

// appendFloat writes a float so that it reads back as a float: Python's repr style ("1.0", "1e+16").
func appendFloat(out []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return out, &decodeError{"ValueError: NaN and Infinity have no JSON form"}
	}
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return append(out, s...), nil
}
