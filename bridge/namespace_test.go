package bridge

import (
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

func TestNamespaceNames(t *testing.T) {
	for _, c := range []struct{ project, ns string }{
		{"campus", "~campus/"},
		{"", "~/"},
		{"a/b", "~a%2Fb/"},
		{"+#%\x00", "~%2B%23%25%00/"},
		{"$SYS", "~$SYS/"},
	} {
		if got := namespaceOf(c.project); got != c.ns {
			t.Errorf("namespaceOf(%q) = %q, want %q", c.project, got, c.ns)
		}
	}
	ns := namespaceOf("p")
	for _, c := range []struct{ filter, inner string }{
		{"sensors/#", "~p/sensors/#"},
		{"#", "~p/#"},
		{"/leading", "~p//leading"},
		{"$SYS/broker/#", "$SYS/broker/#"},
		{"$share/g/sensors/+/x", "$share/g/~p/sensors/+/x"},
		{"$share/g", "$share/g"},
		{"$SHARE/g/sensors/#", "$SHARE/g/~p/sensors/#"}, // the server reads the share prefix in any case
		{"$Share/g/~q/#", "$Share/g/~p/~q/#"},
		{"$\u017fhare/g/~q/#", "$\u017fhare/g/~p/~q/#"}, // U+017F folds to s
		{"", ""}, // invalid, and left so for the server to refuse: "~p/" would be a valid filter
	} {
		got := innerFilter(ns, c.filter)
		if got != c.inner {
			t.Errorf("innerFilter(%q) = %q, want %q", c.filter, got, c.inner)
		}
		if back := outerFilter(ns, got); back != c.filter {
			t.Errorf("outerFilter(%q) = %q, want %q", got, back, c.filter)
		}
		if c.filter != "" && c.filter != "$share/g" && !inNamespace(ns, got) {
			t.Errorf("inNamespace(%q) = false for a filter innerFilter made", got)
		}
	}
	for _, outside := range []string{"~q/sensors/#", "sensors/#", "$share/g/~q/x", "$SHARE/g/x", "$share/g", "~pp/x"} {
		if inNamespace(ns, outside) {
			t.Errorf("inNamespace(%q) = true: a name outside ~p/ passes", outside)
		}
	}
}

// Namespaces keep projects apart whatever their ids: a namespace is one topic level, so two projects' names
// can only meet if the namespaces are equal, and equal namespaces mean equal projects.
func FuzzNamespace(f *testing.F) {
	for _, s := range [][2]string{{"campus", "sensors/#"}, {"a/b", "$share/g/x"}, {"a", "b/#"}, {"%2F", "+"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, project, filter string) {
		ns := namespaceOf(project)
		if strings.IndexAny(ns[:len(ns)-1], "/+#\x00") >= 0 || !strings.HasSuffix(ns, "/") {
			t.Fatalf("namespaceOf(%q) = %q is not one plain topic level", project, ns)
		}
		if other := project + "x"; namespaceOf(other) == ns {
			t.Fatalf("%q and %q share namespace %q", project, other, ns)
		}
		inner := innerFilter(ns, filter)
		if back := outerFilter(ns, inner); back != filter {
			t.Fatalf("filter %q came back as %q", filter, back)
		}
		if inner != filter && !inNamespace(ns, inner) {
			t.Fatalf("innerFilter(%q) = %q is outside its namespace", filter, inner)
		}
		if other := namespaceOf(project + "x"); inner != filter && inNamespace(other, inner) {
			t.Fatalf("innerFilter(%q) = %q is inside another project's namespace", filter, inner)
		}
	})
}

// quiet checks that c has received nothing more: a marker published in c's own project after the publish
// that must not reach it arrives first (the server queues a publish to every subscriber before the
// publisher's acknowledgement, so anything that leaked would be queued ahead of the marker).
func quiet(t *testing.T, what string, c *v5, marker func()) {
	t.Helper()
	marker()
	if got := c.next(t); string(got.Payload) != `"marker"` {
		t.Fatalf("%s: received %s on %q", what, got.Payload, got.Topic)
	}
}

// Projects do not share the MQTT topic space: the same topic names in two projects carry each project's
// publishes, retained messages and commands to that project's clients only, and the same client id in two
// projects is two clients, not a session takeover.
func TestProjectsAreIsolated(t *testing.T) {
	e := newEnv(t)
	const other = "other-project"
	opA := e.v5("ops-a", e.token("ops-a", signing.RoleMember))
	opB := e.v5("ops-b", e.tokenFor("ops-b", other, nil, signing.RoleMember))
	opA.subscribe(t, "#", 1)
	opB.subscribe(t, "#", 1)
	markA := func() { opA.publish(t, "marker", []byte(`"marker"`)) }
	markB := func() { opB.publish(t, "marker", []byte(`"marker"`)) }

	// The same client id in both projects: two devices, neither takes over the other's session.
	devA := e.v5("ac-1", e.token("ac-1", signing.RoleDevice))
	devB := e.v5("ac-1", e.tokenFor("ac-1", other, nil, signing.RoleDevice))
	devA.subscribe(t, "devices/ac-1/commands", 1)
	devB.subscribe(t, "devices/ac-1/commands", 1)

	// Telemetry: each project's operator sees its own device's publish, under the device's topic name.
	if code := devA.publish(t, "sensors/b1/r1/temp", []byte(`{"c":21}`)); code != 0 {
		t.Fatalf("publish in A: %#x", code)
	}
	if got := opA.next(t); got.Topic != "sensors/b1/r1/temp" || string(got.Payload) != `{"c":21}` {
		t.Fatalf("A's operator got %s on %q", got.Payload, got.Topic)
	}
	quiet(t, "B's operator after A's telemetry", opB, markB)
	if code := devB.publish(t, "sensors/b1/r1/temp", []byte(`{"c":5}`)); code != 0 {
		t.Fatalf("publish in B: %#x", code)
	}
	if got := opB.next(t); got.Topic != "sensors/b1/r1/temp" || string(got.Payload) != `{"c":5}` {
		t.Fatalf("B's operator got %s on %q", got.Payload, got.Topic)
	}
	quiet(t, "A's operator after B's telemetry", opA, markA)

	// Retained state is per project.
	ctx := t.Context()
	if _, err := opA.Publish(ctx, &paho.Publish{Topic: "status/b1", QoS: 1, Retain: true, Payload: []byte(`"up"`)}); err != nil {
		t.Fatal(err)
	}
	retainA := e.v5("ops-a2", e.token("ops-a2", signing.RoleMember))
	retainA.subscribe(t, "status/#", 1)
	if got := retainA.next(t); got.Topic != "status/b1" || string(got.Payload) != `"up"` || !got.Retain {
		t.Fatalf("A's new subscriber got %s on %q (retain %v)", got.Payload, got.Topic, got.Retain)
	}
	retainB := e.v5("ops-b2", e.tokenFor("ops-b2", other, nil, signing.RoleMember))
	retainB.subscribe(t, "status/#", 1)
	retainB.subscribe(t, "marker", 1)
	quiet(t, "B's new subscriber to status/#", retainB, markB)

	// A command posted in A reaches A's ac-1 only: B's ac-1 gets B's command first.
	e.post("cmd-ac-1", `{"set":19}`)
	if got := devA.next(t); !strings.Contains(string(got.Payload), `"set":19`) || got.Topic != "devices/ac-1/commands" {
		t.Fatalf("A's device got %s on %q", got.Payload, got.Topic)
	}
	if _, err := e.svc.PostMessages(e.ctx, broker.Caller{Project: other, ClientID: broker.ClientID{3}}, "cmd-ac-1",
		[]byte(`{"messages":[{"ttl":300,"body":{"set":25}}]}`), 0); err != nil {
		t.Fatal(err)
	}
	if got := devB.next(t); !strings.Contains(string(got.Payload), `"set":25`) {
		t.Fatalf("B's device got %s on %q before its own command", got.Payload, got.Topic)
	}

	// Both ac-1 are still connected: each still gets its PUBACK, and neither was told of a takeover.
	for name, dev := range map[string]*v5{"A": devA, "B": devB} {
		if code := dev.publish(t, "devices/ac-1/telemetry", []byte(`{"t":1}`)); code != 0 {
			t.Fatalf("%s's ac-1: %#x", name, code)
		}
		select {
		case d := <-dev.disconnects:
			t.Fatalf("%s's ac-1 was disconnected (%#x)", name, d.ReasonCode)
		default:
		}
	}
}

// The MQTT server takes "$share" in any case as a shared subscription, so the namespace goes inside it
// whatever its case: a client cannot subscribe to another project's topics as "$SHARE/g/~other/#".
func TestSharedSubscriptionAnyCaseStaysInProject(t *testing.T) {
	e := newEnv(t)
	const other = "other-project"
	opA := e.v5("ops-a", e.token("ops-a", signing.RoleMember))
	opB := e.v5("ops-b", e.tokenFor("ops-b", other, nil, signing.RoleMember))
	for _, f := range []string{"$SHARE/g/" + namespaceOf(other) + "#", "$Share/h/" + namespaceOf(other) + "#",
		"$\u017fhare/i/" + namespaceOf(other) + "#", "marker"} {
		if code := opA.subscribe(t, f, 1); code > 2 {
			t.Fatalf("subscribe %s: %#x", f, code)
		}
	}
	if code := opB.publish(t, "sensors/b1/r1/temp", []byte(`{"c":5}`)); code != 0 {
		t.Fatalf("publish in B: %#x", code)
	}
	quiet(t, "A's $SHARE subscriber after B's publish", opA, func() { opA.publish(t, "marker", []byte(`"marker"`)) })
}

// An empty filter is refused ([MQTT-4.7.3-1]), as it was before namespaces: the namespace alone would make it
// a valid filter.
func TestEmptyFilterRefused(t *testing.T) {
	e := newEnv(t)
	op := e.v5("ops-a", e.token("ops-a", signing.RoleMember))
	if code := op.subscribe(t, "", 1); code != 0x8F {
		t.Fatalf("subscribe to an empty filter: reason %#x, want 0x8f (topic filter invalid)", code)
	}
}
