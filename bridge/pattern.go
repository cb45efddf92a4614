package bridge

import (
	"fmt"
	"strings"
)

// Pattern is an MQTT topic pattern whose levels are literals, named single-level wildcards written {name},
// anonymous single-level wildcards (+), or a final multi-level wildcard (#). It matches topics (Match) and
// bounds topic filters (Covers). Build it with ParsePattern.
type Pattern struct {
	text   string
	levels []patternLevel
	multi  bool     // ends with "#"
	vars   []string // names of the {name} levels, in order
}

// patternLevel is a literal (v == levelLiteral), an anonymous wildcard (levelPlus) or the index of a named one.
type patternLevel struct {
	lit string
	v   int
}

const (
	levelLiteral = -1
	levelPlus    = -2
)

// MaxPatternVars bounds the named wildcards of a pattern (matching keeps their values on the stack).
const MaxPatternVars = 8

// ParsePattern compiles a pattern such as "sensors/{building}/{room}/{kind}" or "devices/{device}/#". A named
// wildcard fills a whole level, names are letters, digits and _ and appear once, # may only be last, and
// levels hold no other wildcard characters.
func ParsePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("%w: empty topic pattern", ErrBadRule)
	}
	p := Pattern{text: s}
	parts := strings.Split(s, "/")
	for i, part := range parts {
		switch {
		case part == "#":
			if i != len(parts)-1 {
				return Pattern{}, fmt.Errorf("%w: %q: # must be the last level", ErrBadRule, s)
			}
			p.multi = true
		case part == "+":
			p.levels = append(p.levels, patternLevel{v: levelPlus})
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if !validVarName(name) {
				return Pattern{}, fmt.Errorf("%w: %q: bad wildcard name %q", ErrBadRule, s, name)
			}
			for _, v := range p.vars {
				if v == name {
					return Pattern{}, fmt.Errorf("%w: %q: wildcard {%s} used twice", ErrBadRule, s, name)
				}
			}
			if len(p.vars) == MaxPatternVars {
				return Pattern{}, fmt.Errorf("%w: %q: more than %d named wildcards", ErrBadRule, s, MaxPatternVars)
			}
			p.levels = append(p.levels, patternLevel{v: len(p.vars)})
			p.vars = append(p.vars, name)
		case strings.ContainsAny(part, "+#{}\x00"):
			return Pattern{}, fmt.Errorf("%w: %q: level %q mixes text and wildcards", ErrBadRule, s, part)
		default:
			p.levels = append(p.levels, patternLevel{lit: part, v: levelLiteral})
		}
	}
	if strings.HasPrefix(s, "$") {
		return Pattern{}, fmt.Errorf("%w: %q: $ topics are the broker's", ErrBadRule, s)
	}
	return p, nil
}

func validVarName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// String is the pattern's text.
func (p Pattern) String() string { return p.text }

// Vars are the names of the named wildcards, in order.
func (p Pattern) Vars() []string { return p.vars }

// VarIndex is the position of a named wildcard in Vars, or -1.
func (p Pattern) VarIndex(name string) int {
	for i, v := range p.vars {
		if v == name {
			return i
		}
	}
	return -1
}

// Match reports whether topic (a topic name, not a filter) matches, storing the named wildcards' values (slices
// of topic) in vals by Vars order. As with MQTT filters, a leading wildcard never matches a $ topic, and
// "a/#" matches "a". A named wildcard never takes an empty level.
func (p Pattern) Match(topic string, vals *[MaxPatternVars]string) bool {
	if topic == "" || (topic[0] == '$' && (len(p.levels) == 0 || p.levels[0].v != levelLiteral)) {
		return false
	}
	rest := topic
	for i, l := range p.levels {
		level, next, more := cutLevel(rest)
		switch l.v {
		case levelLiteral:
			if level != l.lit {
				return false
			}
		case levelPlus:
		default:
			if level == "" {
				return false
			}
			vals[l.v] = level
		}
		if !more {
			return i == len(p.levels)-1
		}
		rest = next
	}
	// The topic has more levels than the pattern's fixed part: only a final # takes them.
	return p.multi
}

// cutLevel splits the first level off a topic: more reports whether a "/" followed.
func cutLevel(s string) (level, rest string, more bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Expand writes the pattern with its named wildcards replaced by vals (in Vars order). It is meant for
// patterns without + or #; those are written as themselves.
func (p Pattern) Expand(vals ...string) string {
	var b strings.Builder
	for i, l := range p.levels {
		if i > 0 {
			b.WriteByte('/')
		}
		switch l.v {
		case levelLiteral:
			b.WriteString(l.lit)
		case levelPlus:
			b.WriteByte('+')
		default:
			if l.v < len(vals) {
				b.WriteString(vals[l.v])
			}
		}
	}
	if p.multi {
		if len(p.levels) > 0 {
			b.WriteByte('/')
		}
		b.WriteByte('#')
	}
	return b.String()
}

// Concrete reports whether the pattern has no + or #, so that Expand gives a topic name.
func (p Pattern) Concrete() bool {
	if p.multi {
		return false
	}
	for _, l := range p.levels {
		if l.v == levelPlus {
			return false
		}
	}
	return true
}

// Covers reports whether every topic that filter matches is also matched by the pattern with its named
// wildcard number boundVar (an index into Vars; -1 for none) fixed to boundValue (other named wildcards act
// as +). A topic name is a filter without
// wildcards, so Covers also checks single topics. A shared subscription ($share/group/f) is judged by f.
// Covers is how the ACL keeps a device inside its own topics: "devices/+/commands" is not covered by
// "devices/{device}/commands" with device = ac-12, "devices/ac-12/commands" is.
func (p Pattern) Covers(filter string, boundVar int, boundValue string) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		_, f, found := strings.Cut(rest, "/")
		if !found {
			return false
		}
		filter = f
	}
	if filter == "" || (filter[0] == '$' && (len(p.levels) == 0 || p.levels[0].v != levelLiteral)) {
		return false
	}
	rest := filter
	for i, l := range p.levels {
		level, next, more := cutLevel(rest)
		switch {
		case level == "#":
			// The filter takes every deeper level where the pattern still has a fixed one.
			return false
		case l.v == levelLiteral:
			if level != l.lit {
				return false
			}
		case l.v >= 0 && l.v == boundVar:
			if level != boundValue {
				return false
			}
		default: // + or another named wildcard (which acts as +): any level, + included
		}
		if !more {
			return i == len(p.levels)-1
		}
		rest = next
	}
	// The filter has more levels than the pattern's fixed part: only a final # covers them.
	return p.multi
}

// filterMatches reports whether an MQTT topic filter (with + and #, possibly a shared subscription
// $share/group/filter) matches a topic name.
func filterMatches(filter, topic string) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		_, f, found := strings.Cut(rest, "/")
		if !found {
			return false
		}
		filter = f
	}
	if filter == "" || topic == "" {
		return false
	}
	if topic[0] == '$' && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	for {
		fl, frest, fmore := cutLevel(filter)
		if fl == "#" {
			return true
		}
		tl, trest, tmore := cutLevel(topic)
		if fl != "+" && fl != tl {
			return false
		}
		switch {
		case !fmore && !tmore:
			return true
		case !tmore:
			// The topic ends; "a/#" still matches "a".
			return frest == "#"
		case !fmore:
			return false
		}
		filter, topic = frest, trest
	}
}
