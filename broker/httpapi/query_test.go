package httpapi

import (
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestParseBool(t *testing.T) {
	for _, v := range []string{"true", "True", "t", "yes", "y", "1", "on"} {
		if b, ok := parseBool([]byte(v)); !ok || !b {
			t.Errorf("parseBool(%q) = %v, %v; want true", v, b, ok)
		}
	}
	for _, v := range []string{"false", "False", "f", "no", "n", "0", "off"} {
		if b, ok := parseBool([]byte(v)); !ok || b {
			t.Errorf("parseBool(%q) = %v, %v; want false", v, b, ok)
		}
	}
	for _, v := range []string{"TRUE", "FALSE", "Yes", "On", "2", "", " true", "tru"} {
		if _, ok := parseBool([]byte(v)); ok {
			t.Errorf("parseBool(%q) accepted", v)
		}
	}
}

func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"5", 5, true},
		{"0", 0, true},
		{"-3", -3, true},
		{"+7", 7, true},
		{" 12 ", 12, true},
		{"1_000", 1000, true},
		{"007", 7, true},
		{"99999999999999999999", math.MaxInt, true},
		{"-99999999999999999999", math.MinInt, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"", 0, false},
		{"-", 0, false},
		{"1.5", 0, false},
		{"abc", 0, false},
		{"1__0", 0, false},
		{"_1", 0, false},
		{"1_", 0, false},
		{"0x10", 0, false},
		{"1 2", 0, false},
	} {
		got, ok := parseInt([]byte(c.in))
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func argsOf(query string) *fasthttp.Args {
	var a fasthttp.Args
	a.Parse(query)
	return &a
}

func TestQueryLists(t *testing.T) {
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"ids=a,b", []string{"a", "b"}},
		{"ids=a&ids=b", []string{"a", "b"}},
		{"ids=a,b&ids=c", []string{"a", "b", "c"}},
		{"ids=a,,b,", []string{"a", "b"}},
		{"ids=", nil},
		{"ids=,", nil},
		{"other=x", nil},
		{"ids=a%2Cb", []string{"a", "b"}}, // fasthttp decodes before the split
	} {
		if got := queryList(argsOf(c.query), "ids"); !slices.Equal(got, c.want) {
			t.Errorf("queryList(%q) = %q; want %q", c.query, got, c.want)
		}
	}
}

func TestQueryScalars(t *testing.T) {
	for _, c := range []struct {
		query, want string
	}{
		{"marker=a", "a"},
		{"marker=", ""},
		{"marker=a&marker=", "a"}, // a blank value is absent, it does not erase
		{"marker=a&marker=b", "b"},
		{"marker=a,b", "b"}, // Falcon splits every value; a scalar takes the last piece
		{"marker=a,", "a"},
		{"x=1", ""},
	} {
		if got := queryString(argsOf(c.query), "marker"); got != c.want {
			t.Errorf("queryString(%q) = %q; want %q", c.query, got, c.want)
		}
	}
}

func TestQueryTypedErrors(t *testing.T) {
	if _, _, err := queryBool(argsOf("echo=maybe"), "echo"); err == nil ||
		err.Error() != `Invalid parameter: The "echo" parameter is invalid. The value of the parameter must be "true" or "false".` {
		t.Errorf("bad bool: %v", err)
	}
	if _, _, err := queryInt(argsOf("limit=ten"), "limit"); err == nil ||
		err.Error() != `Invalid parameter: The "limit" parameter is invalid. The value must be an integer.` {
		t.Errorf("bad int: %v", err)
	}
	if v, set, err := queryBool(argsOf("echo=True"), "echo"); err != nil || !set || !v {
		t.Errorf("echo=True: %v %v %v", v, set, err)
	}
	if _, set, err := queryInt(argsOf("limit="), "limit"); err != nil || set {
		t.Errorf("blank limit must be absent: %v %v", set, err)
	}
}

// FuzzQueryParsers checks the parsers never panic and agree with their specifications: parseInt with
// strconv on plain decimal input, parseBool with its fixed spellings, and the list split with a naive one.
func FuzzQueryParsers(f *testing.F) {
	for _, s := range []string{"1", "-1", " 42 ", "1_0", "true", "True", "a,b,,c", "", ",", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		n, ok := parseInt(b)
		if want, err := strconv.Atoi(s); err == nil && (!ok || n != want) {
			t.Fatalf("parseInt(%q) = %d, %v; strconv says %d", s, n, ok, want)
		}
		if v, ok := parseBool(b); ok {
			want := slices.Contains([]string{"true", "True", "t", "yes", "y", "1", "on"}, s)
			if v != want {
				t.Fatalf("parseBool(%q) = %v", s, v)
			}
		}
		var naive []string
		for _, p := range splitComma(s) {
			if p != "" {
				naive = append(naive, p)
			}
		}
		if got := appendPieces(nil, b); !slices.Equal(got, naive) {
			t.Fatalf("appendPieces(%q) = %q; want %q", s, got, naive)
		}
		last := lastPiece(b)
		if len(naive) == 0 && last != nil || len(naive) > 0 && string(last) != naive[len(naive)-1] {
			t.Fatalf("lastPiece(%q) = %q", s, last)
		}
		_ = acceptsJSON(b)
	})
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestAcceptsJSON(t *testing.T) {
	for _, c := range []struct {
		accept string
		ok     bool
	}{
		{"", true},
		{"*/*", true},
		{"application/json", true},
		{"application/*", true},
		{"*", true},
		{"text/html, application/json", true},
		{"text/html,*/*;q=0.1", true},
		{"APPLICATION/JSON", true},
		{"application/json; charset=utf-8", true},
		{"text/html", false},
		{"text/*", false},
		{"application/xml", false},
		{"application/json;q=0", false},
		{"application/json;q=0, */*", false}, // the most specific range decides
		{"*/*;q=0, application/json;q=0.5", true},
		{"garbage", false},
		{"application/json,", false}, // mimeparse fails on the empty range, and Falcon then refuses
	} {
		if got := acceptsJSON([]byte(c.accept)); got != c.ok {
			t.Errorf("acceptsJSON(%q) = %v; want %v", c.accept, got, c.ok)
		}
	}
}
