package redisstore

import (
	"strings"
	"testing"
)

func TestQueueTag(t *testing.T) {
	cases := []struct{ project, queue, want string }{
		{"p", "q", "{p/q}"},
		{"", "q", "{/q}"},
		{"a/b", "c", "{a%2Fb/c}"},
		{"a", "b/c", "{a/b%2Fc}"},
		{"x}y", "q", "{x%7Dy/q}"},
		{"{p}", "q", "{%7Bp%7D/q}"},
		{"100%", "q", "{100%25/q}"},
		{"%2F", "q", "{%252F/q}"},
	}
	for _, c := range cases {
		if got := queueTag(c.project, c.queue); got != c.want {
			t.Errorf("queueTag(%q, %q) = %q, want %q", c.project, c.queue, got, c.want)
		}
	}
	if projectTag("a/b") != "{a%2Fb}" {
		t.Errorf("projectTag(a/b) = %q", projectTag("a/b"))
	}
}

// FuzzQueueTag checks that a queue's tag is a single hash tag (one '{' first, one '}' last) and that distinct
// (project, queue) pairs never share a tag.
func FuzzQueueTag(f *testing.F) {
	f.Add("a", "b/c", "a/b", "c")
	f.Add("", "ab", "ab", "")
	f.Add("x{", "}y", "x", "{}y")
	f.Add("%2F", "q", "/", "q")
	f.Fuzz(func(t *testing.T, p1, q1, p2, q2 string) {
		t1, t2 := queueTag(p1, q1), queueTag(p2, q2)
		for _, tag := range []string{t1, t2} {
			if strings.Count(tag, "{") != 1 || strings.Count(tag, "}") != 1 || tag[0] != '{' || tag[len(tag)-1] != '}' {
				t.Fatalf("tag %q is not one hash tag", tag)
			}
			if strings.Count(tag, "/") != 1 {
				t.Fatalf("tag %q has more than one separator", tag)
			}
		}
		if (t1 == t2) != (p1 == p2 && q1 == q2) {
			t.Fatalf("(%q, %q) -> %q and (%q, %q) -> %q", p1, q1, t1, p2, q2, t2)
		}
		if projectTag(p1) == t2 {
			t.Fatalf("project tag of %q equals the queue tag of (%q, %q)", p1, p2, q2)
		}
	})
}

func TestIDs(t *testing.T) {
	const epoch = "0123456789abcdef"
	id := formatID(epoch, 0x1f)
	if id != epoch+"000000000000001f" {
		t.Fatalf("formatID = %q", id)
	}
	e, seq, ok := parseID(id)
	if !ok || e != epoch || seq != "31" {
		t.Fatalf("parseID(%q) = %q, %q, %v", id, e, seq, ok)
	}
	for _, bad := range []string{"", "nope", epoch, epoch + "000000000000001F", epoch + "00000000000000001f",
		epoch + "0000000000000000", "0123456789abcdeg000000000000001f", " " + epoch[1:] + "000000000000001f"} {
		if _, _, ok := parseID(bad); ok {
			t.Errorf("parseID(%q) accepted", bad)
		}
	}
	if e := newEpoch(); len(e) != epochLen || e == newEpoch() {
		t.Fatalf("newEpoch = %q (want %d random hex digits)", e, epochLen)
	}
}
