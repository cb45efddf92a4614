package broker

import (
	"fmt"
	"strings"
	"testing"
)

// postBody builds a post body of n messages shaped like sensor readings.
func postBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"messages": [`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"body": {"sensor": "r101-temp", "seq": %d, "value": 21.5, "unit": "C"}, "ttl": 300}`, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkDecodeMessages(b *testing.B) {
	l := testLimits()
	for _, n := range []int{1, 10} {
		body := postBody(n)
		b.Run(fmt.Sprintf("msgs=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := decodeMessages(body, postSpec{defaultTTL: 3600}, l, ClientID{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseClientID(b *testing.B) {
	for name, s := range map[string]string{
		"hex32":  "3381af922b9e11e3b19171861300734c",
		"dashed": "3381af92-2b9e-11e3-b191-71861300734c",
		"urn":    "urn:uuid:3381af92-2b9e-11e3-b191-71861300734c",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseClientID(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
