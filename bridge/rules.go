package bridge

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zedge-io/zedge/broker"
)

// Rules are the declarative topic↔queue mappings.
type Rules struct {
	// Telemetry rules map device publishes to queues, first match wins.
	Telemetry []TelemetryRule `yaml:"telemetry"`
	// Commands rules map command queues to device topics.
	Commands []CommandRule `yaml:"commands"`
}

// TelemetryRule stores every publish on a matching topic in a queue of the publisher's project.
type TelemetryRule struct {
	// Topic is a Pattern, e.g. "sensors/{building}/{room}/{kind}". When it names {device}, only that device
	// (the token's subject) may publish there.
	Topic string `yaml:"topic"`
	// Queue is a Template over the topic's named wildcards, e.g. "telemetry-{building}". The result must be a
	// valid queue name, or the publish is refused.
	Queue string `yaml:"queue"`
	// TTL is the message ttl in seconds; 0 means the queue's default (_default_message_ttl, else the
	// configured default).
	TTL int `yaml:"ttl"`
}

// Acknowledgement modes of a command rule.
const (
	// AckPuback: the device's PUBACK of the command (QoS 1) acknowledges it; a reply on the ack topic does too.
	AckPuback = "puback"
	// AckReply: only an explicit reply on the ack topic acknowledges; the PUBACK just confirms receipt.
	AckReply = "reply"
)

// CommandRule delivers the messages of a device's command queue to its command topic.
type CommandRule struct {
	// Queue is a Template with exactly one wildcard, {device}, e.g. "cmd-{device}".
	Queue string `yaml:"queue"`
	// Topic is the device's command topic, a Pattern whose only wildcard is {device}, e.g.
	// "devices/{device}/commands".
	Topic string `yaml:"topic"`
	// AckTopic is where the device may reply, e.g. "devices/{device}/acks"; empty for none.
	AckTopic string `yaml:"ack_topic"`
	// ResultsQueue, when set, receives a status record for every acknowledged command; a Template that may use
	// {device}, e.g. "cmd-results".
	ResultsQueue string `yaml:"results_queue"`
	// Ack is AckPuback (the default when empty) or AckReply.
	Ack string `yaml:"ack"`
}

// DefaultRules are the campus rules shipped in configs/zedge.yaml.
func DefaultRules() Rules {
	return Rules{
		Telemetry: []TelemetryRule{
			{Topic: "sensors/{building}/{room}/{kind}", Queue: "telemetry-{building}"},
			{Topic: "devices/{device}/telemetry", Queue: "telemetry-devices"},
		},
		Commands: []CommandRule{{
			Queue:        "cmd-{device}",
			Topic:        "devices/{device}/commands",
			AckTopic:     "devices/{device}/acks",
			ResultsQueue: "cmd-results",
			Ack:          AckPuback,
		}},
	}
}

// Validate compiles the rules to check them (see NewMapper).
func (r Rules) Validate() error {
	_, err := NewMapper(r)
	return err
}

// Template is a queue name with {name} placeholders filled from a topic's named wildcards.
type Template struct {
	text  string
	parts []templatePart
}

type templatePart struct {
	lit string
	v   int // index into the pattern's Vars, or levelLiteral
}

// ParseTemplate compiles s against the wildcard names it may use.
func ParseTemplate(s string, vars []string) (Template, error) {
	if s == "" {
		return Template{}, fmt.Errorf("%w: empty queue template", ErrBadRule)
	}
	t := Template{text: s}
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, templatePart{lit: rest, v: levelLiteral})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, templatePart{lit: rest[:open], v: levelLiteral})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return Template{}, fmt.Errorf("%w: %q: unclosed {", ErrBadRule, s)
		}
		name := rest[open+1 : open+end]
		idx := -1
		for i, v := range vars {
			if v == name {
				idx = i
			}
		}
		if idx < 0 {
			return Template{}, fmt.Errorf("%w: %q: {%s} is not a wildcard of the topic", ErrBadRule, s, name)
		}
		t.parts = append(t.parts, templatePart{v: idx})
		rest = rest[open+end+1:]
	}
	for _, p := range t.parts {
		if p.v == levelLiteral && strings.ContainsAny(p.lit, "{}") {
			return Template{}, fmt.Errorf("%w: %q: stray brace", ErrBadRule, s)
		}
	}
	return t, nil
}

// String is the template's text.
func (t Template) String() string { return t.text }

// Expand fills the template from wildcard values (in the pattern's Vars order).
func (t Template) Expand(vals *[MaxPatternVars]string) string {
	if len(t.parts) == 1 && t.parts[0].v == levelLiteral {
		return t.parts[0].lit
	}
	n := 0
	for _, p := range t.parts {
		if p.v == levelLiteral {
			n += len(p.lit)
		} else {
			n += len(vals[p.v])
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range t.parts {
		if p.v == levelLiteral {
			b.WriteString(p.lit)
		} else {
			b.WriteString(vals[p.v])
		}
	}
	return b.String()
}

// matches reports whether some wildcard values expand t to s. Only the results queue template uses it, whose
// one wildcard ({device}) may appear any number of times: the value is the text at the first wildcard, of
// each possible length.
func (t Template) matches(s string) bool {
	first := -1
	for i, p := range t.parts {
		if p.v != levelLiteral {
			first = i
			break
		}
	}
	if first < 0 {
		return s == t.text
	}
	start := 0
	for _, p := range t.parts[:first] {
		start += len(p.lit)
	}
	if len(s) < start || s[:start] != t.text[:start] {
		return false
	}
	var vals [MaxPatternVars]string
	for end := start; end <= len(s); end++ {
		vals[t.parts[first].v] = s[start:end]
		if t.Expand(&vals) == s {
			return true
		}
	}
	return false
}

// Mapper applies compiled Rules. It is immutable and safe for concurrent use.
type Mapper struct {
	telemetry []telemetryRule
	commands  []commandRule
}

type telemetryRule struct {
	topic     Pattern
	queue     Template
	ttl       int
	deviceVar int // index of {device} in topic.Vars, or -1
}

type commandRule struct {
	queuePrefix, queueSuffix string
	topic                    Pattern
	ack                      Pattern // zero when the rule has no ack topic
	hasAck                   bool
	results                  Template
	hasResults               bool
	replyOnly                bool
}

// DeviceVar is the wildcard name that binds a topic to the device (the token's subject).
const DeviceVar = "device"

// NewMapper compiles and checks rules. Errors wrap ErrBadRule and name the rule.
func NewMapper(r Rules) (*Mapper, error) {
	m := &Mapper{}
	for i, tr := range r.Telemetry {
		p, err := ParsePattern(tr.Topic)
		if err != nil {
			return nil, fmt.Errorf("bridge.telemetry[%d]: %w", i, err)
		}
		q, err := ParseTemplate(tr.Queue, p.Vars())
		if err != nil {
			return nil, fmt.Errorf("bridge.telemetry[%d]: %w", i, err)
		}
		if tr.TTL < 0 {
			return nil, fmt.Errorf("bridge.telemetry[%d]: %w: negative ttl", i, ErrBadRule)
		}
		m.telemetry = append(m.telemetry, telemetryRule{topic: p, queue: q, ttl: tr.TTL, deviceVar: p.VarIndex(DeviceVar)})
	}
	for i, cr := range r.Commands {
		c, err := compileCommand(cr)
		if err != nil {
			return nil, fmt.Errorf("bridge.commands[%d]: %w", i, err)
		}
		for j, other := range m.commands {
			if queueTemplatesOverlap(c, other) {
				return nil, fmt.Errorf("bridge.commands[%d]: %w: queue %q overlaps commands[%d]", i, ErrBadRule, cr.Queue, j)
			}
		}
		m.commands = append(m.commands, c)
	}
	return m, nil
}

func compileCommand(cr CommandRule) (commandRule, error) {
	var c commandRule
	prefix, rest, ok := strings.Cut(cr.Queue, "{"+DeviceVar+"}")
	if !ok || strings.ContainsAny(prefix, "{}") || strings.ContainsAny(rest, "{}") {
		return c, fmt.Errorf("%w: queue %q must use {device} once and no other wildcard", ErrBadRule, cr.Queue)
	}
	if !validQueueText(prefix) || !validQueueText(rest) {
		return c, fmt.Errorf("%w: queue %q has characters a queue name cannot hold", ErrBadRule, cr.Queue)
	}
	c.queuePrefix, c.queueSuffix = prefix, rest
	topic, err := singleDevicePattern(cr.Topic, "topic")
	if err != nil {
		return c, err
	}
	c.topic = topic
	if cr.AckTopic != "" {
		if c.ack, err = singleDevicePattern(cr.AckTopic, "ack_topic"); err != nil {
			return c, err
		}
		if cr.AckTopic == cr.Topic {
			return c, fmt.Errorf("%w: ack_topic is the command topic", ErrBadRule)
		}
		c.hasAck = true
	}
	if cr.ResultsQueue != "" {
		if c.results, err = ParseTemplate(cr.ResultsQueue, []string{DeviceVar}); err != nil {
			return c, err
		}
		c.hasResults = true
	}
	switch cr.Ack {
	case "", AckPuback:
	case AckReply:
		if !c.hasAck {
			return c, fmt.Errorf("%w: ack %q needs an ack_topic", ErrBadRule, AckReply)
		}
		c.replyOnly = true
	default:
		return c, fmt.Errorf("%w: ack must be %q or %q, not %q", ErrBadRule, AckPuback, AckReply, cr.Ack)
	}
	return c, nil
}

// singleDevicePattern parses a topic that must be concrete once {device} is filled in.
func singleDevicePattern(s, field string) (Pattern, error) {
	p, err := ParsePattern(s)
	if err != nil {
		return p, err
	}
	if !p.Concrete() || len(p.Vars()) != 1 || p.Vars()[0] != DeviceVar {
		return p, fmt.Errorf("%w: %s %q must have {device} as its only wildcard", ErrBadRule, field, s)
	}
	return p, nil
}

// validQueueText: characters a queue name may hold (possibly none).
func validQueueText(s string) bool { return s == "" || broker.ValidQueueName(s) }

// queueTemplatesOverlap reports whether some queue name could belong to both rules.
func queueTemplatesOverlap(a, b commandRule) bool {
	return (strings.HasPrefix(a.queuePrefix, b.queuePrefix) || strings.HasPrefix(b.queuePrefix, a.queuePrefix)) &&
		(strings.HasSuffix(a.queueSuffix, b.queueSuffix) || strings.HasSuffix(b.queueSuffix, a.queueSuffix))
}

// TelemetryRoute is where a telemetry publish goes.
type TelemetryRoute struct {
	Rule   int    // index into Rules.Telemetry
	Queue  string // the derived queue name (valid)
	Device string // the {device} level when the rule names one, else ""
	TTL    int    // the rule's ttl (0: queue default)
}

// Telemetry maps a topic to its queue. ErrNoRule: no rule matches (a plain MQTT topic). ErrBadQueue: a rule
// matches but the derived name is not a valid queue name; the route still names the rule and the name.
func (m *Mapper) Telemetry(topic string) (TelemetryRoute, error) {
	var vals [MaxPatternVars]string
	for i := range m.telemetry {
		r := &m.telemetry[i]
		if !r.topic.Match(topic, &vals) {
			continue
		}
		route := TelemetryRoute{Rule: i, Queue: r.queue.Expand(&vals), TTL: r.ttl}
		if r.deviceVar >= 0 {
			route.Device = vals[r.deviceVar]
		}
		if !broker.ValidQueueName(route.Queue) {
			return route, ErrBadQueue
		}
		return route, nil
	}
	return TelemetryRoute{}, ErrNoRule
}

// CommandRoute ties a device to one command rule.
type CommandRoute struct {
	Rule   int    // index into Rules.Commands
	Device string // the device id
	Queue  string // its command queue
	Topic  string // its command topic
}

// CommandQueue maps a queue name to the device whose command queue it is.
func (m *Mapper) CommandQueue(queue string) (CommandRoute, bool) {
	for i := range m.commands {
		c := &m.commands[i]
		if len(queue) <= len(c.queuePrefix)+len(c.queueSuffix) ||
			!strings.HasPrefix(queue, c.queuePrefix) || !strings.HasSuffix(queue, c.queueSuffix) {
			continue
		}
		device := queue[len(c.queuePrefix) : len(queue)-len(c.queueSuffix)]
		if m.isResultsQueue(queue) {
			return CommandRoute{}, false
		}
		return CommandRoute{Rule: i, Device: device, Queue: queue, Topic: c.topic.Expand(device)}, true
	}
	return CommandRoute{}, false
}

// usableCommandQueue reports whether q, a command rule's queue for some device, can carry that device's
// commands: a valid queue name that is no rule's results queue. Under the default rules the device "results"
// would otherwise have cmd-results, every device's status records, as its command queue: each record would
// be delivered to it as a command and deleted by its acknowledgement.
func (m *Mapper) usableCommandQueue(q string) bool {
	return broker.ValidQueueName(q) && !m.isResultsQueue(q)
}

// isResultsQueue reports whether q is the results queue of some command rule, for some device.
func (m *Mapper) isResultsQueue(q string) bool {
	for i := range m.commands {
		c := &m.commands[i]
		if c.hasResults && c.results.matches(q) {
			return true
		}
	}
	return false
}

// CommandTopic maps a device's command topic to its rule and queue (an operator publishing a command over
// MQTT). The device id must make a valid queue name.
func (m *Mapper) CommandTopic(topic string) (CommandRoute, bool) {
	var vals [MaxPatternVars]string
	for i := range m.commands {
		c := &m.commands[i]
		if c.topic.Match(topic, &vals) {
			r := CommandRoute{Rule: i, Device: vals[0], Queue: c.queuePrefix + vals[0] + c.queueSuffix, Topic: topic}
			return r, m.usableCommandQueue(r.Queue)
		}
	}
	return CommandRoute{}, false
}

// IsCommandTopic reports whether topic is any device's command topic, valid device id or not.
func (m *Mapper) IsCommandTopic(topic string) bool {
	var vals [MaxPatternVars]string
	for i := range m.commands {
		if m.commands[i].topic.Match(topic, &vals) {
			return true
		}
	}
	return false
}

// AckTopic maps a device's ack topic to its command rule.
func (m *Mapper) AckTopic(topic string) (CommandRoute, bool) {
	var vals [MaxPatternVars]string
	for i := range m.commands {
		c := &m.commands[i]
		if c.hasAck && c.ack.Match(topic, &vals) {
			r := CommandRoute{Rule: i, Device: vals[0], Queue: c.queuePrefix + vals[0] + c.queueSuffix,
				Topic: c.topic.Expand(vals[0])}
			return r, m.usableCommandQueue(r.Queue)
		}
	}
	return CommandRoute{}, false
}

// ForDevice lists the command routes of a device, one per command rule whose queue name is valid for it.
func (m *Mapper) ForDevice(device string) []CommandRoute {
	var out []CommandRoute
	for i := range m.commands {
		c := &m.commands[i]
		q := c.queuePrefix + device + c.queueSuffix
		if validDeviceID(device) && m.usableCommandQueue(q) {
			out = append(out, CommandRoute{Rule: i, Device: device, Queue: q, Topic: c.topic.Expand(device)})
		}
	}
	return out
}

// ResultsQueue is the results queue of a command rule for a device, or "" when the rule has none or the name
// would be invalid.
func (m *Mapper) ResultsQueue(rule int, device string) string {
	c := &m.commands[rule]
	if !c.hasResults {
		return ""
	}
	var vals [MaxPatternVars]string
	vals[0] = device
	q := c.results.Expand(&vals)
	if !broker.ValidQueueName(q) {
		return ""
	}
	return q
}

// ReplyOnly reports whether a rule's commands are acknowledged only by a reply on the ack topic.
func (m *Mapper) ReplyOnly(rule int) bool { return m.commands[rule].replyOnly }

// validDeviceID: a device id must fill one topic level: non-empty, no "/", "+", "#" or NUL, valid UTF-8, at
// most 128 bytes.
func validDeviceID(id string) bool {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "/+#\x00") {
		return false
	}
	return utf8.ValidString(id)
}
