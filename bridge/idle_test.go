package bridge

import (
	"bytes"
	"context"
	"net"
	"slices"
	"testing"
	"unsafe"

	"github.com/eclipse/paho.golang/paho"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/signing"
)

// A client keeps nothing that points into its CONNECT packet once authenticated: overwriting the packet's
// buffer afterwards changes none of its fields.
func TestDetachConnect(t *testing.T) {
	buf := []byte("dev-7|alice|auth-method|uk|uv|will/topic|will-payload|wk|wv")
	part := func(i int) []byte { return bytes.Split(buf, []byte("|"))[i] }
	str := func(i int) string { b := part(i); return unsafe.String(unsafe.SliceData(b), len(b)) }

	cl := &mqtt.Client{ID: str(0)}
	cl.Properties.Username = part(1)
	cl.Properties.Props.AuthenticationMethod = str(2)
	cl.Properties.Props.User = []packets.UserProperty{{Key: str(3), Val: str(4)}}
	cl.Properties.Will = mqtt.Will{TopicName: str(5), Payload: part(6), User: []packets.UserProperty{{Key: str(7), Val: str(8)}},
		Flag: 1, Qos: 1}

	detachConnect(cl)
	for i := range buf {
		if buf[i] != '|' {
			buf[i] = 'X'
		}
	}

	p := cl.Properties
	for _, c := range []struct{ field, got, want string }{
		{"client id", cl.ID, "dev-7"},
		{"username", string(p.Username), "alice"},
		{"authentication method", p.Props.AuthenticationMethod, "auth-method"},
		{"user property key", p.Props.User[0].Key, "uk"},
		{"user property value", p.Props.User[0].Val, "uv"},
		{"will topic", p.Will.TopicName, "will/topic"},
		{"will payload", string(p.Will.Payload), "will-payload"},
		{"will user property key", p.Will.User[0].Key, "wk"},
		{"will user property value", p.Will.User[0].Val, "wv"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q after the packet's buffer changed, want %q", c.field, c.got, c.want)
		}
	}
	if p.Will.Flag != 1 || p.Will.Qos != 1 {
		t.Errorf("will flag/qos = %d/%d, want 1/1", p.Will.Flag, p.Will.Qos)
	}
}

// End to end: what a connection keeps from its CONNECT still works once copied out of the packet. The device
// is found under its client id, and its will reaches a subscriber intact when its connection breaks.
func TestDetachedConnectInUse(t *testing.T) {
	e := newEnv(t)
	ops := e.v5("ops", e.token("ops", signing.RoleAdmin))
	if code := ops.subscribe(t, "devices/ac-12/status", 1); code != 1 {
		t.Fatalf("subscribe: reason %#x", code)
	}
	conn, err := net.Dial("tcp", e.b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	dev := paho.NewClient(paho.ClientConfig{Conn: conn})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ca, err := dev.Connect(ctx, &paho.Connect{ClientID: "ac-12", CleanStart: true, KeepAlive: 30,
		Password: []byte(e.token("ac-12", signing.RoleDevice)), PasswordFlag: true, Username: "ac-12", UsernameFlag: true,
		WillMessage:    &paho.WillMessage{Topic: "devices/ac-12/status", QoS: 1, Payload: []byte("offline")},
		WillProperties: &paho.WillProperties{User: paho.UserProperties{{Key: "reason", Value: "lost"}}}})
	if err != nil || ca.ReasonCode != 0 {
		t.Fatalf("connect: %v %+v", err, ca)
	}
	if _, ok := e.b.srv.Clients.Get(namespaceOf(testProject) + "ac-12"); !ok {
		t.Fatal("the device is not found under its client id (in its project's namespace)")
	}
	_ = conn.Close() // no DISCONNECT: the server publishes the will
	will := ops.next(t)
	if will.Topic != "devices/ac-12/status" || string(will.Payload) != "offline" || will.Properties == nil ||
		will.Properties.User.Get("reason") != "lost" {
		t.Errorf("will = %s %q %+v", will.Topic, will.Payload, will.Properties)
	}
}

// Absent fields stay absent (nil), so that nothing downstream mistakes an empty copy for a value given.
func TestDetachConnectKeepsAbsentFields(t *testing.T) {
	cl := &mqtt.Client{ID: "dev-7"}
	detachConnect(cl)
	p := cl.Properties
	if p.Username != nil || p.Props.User != nil || p.Will.Payload != nil || p.Will.User != nil || p.Will.TopicName != "" {
		t.Errorf("absent fields filled in: %+v", p)
	}
}

// A session keeps only the queues claim, and it decides as the whole token would.
func TestQueuesClaim(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queues []string
		queue  string
		want   bool
	}{
		{"no claim: every queue", nil, "telemetry-b1", true},
		{"empty claim: no queue", []string{}, "telemetry-b1", false},
		{"pattern matches", []string{"telemetry-*"}, "telemetry-b1", true},
		{"pattern does not match", []string{"telemetry-*"}, "cmd-ac-1", false},
		{"second pattern matches", []string{"telemetry-*", "cmd-ac-1"}, "cmd-ac-1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			full := &signing.Claims{ProjectID: testProject, Roles: []string{signing.RoleDevice}, Queues: tc.queues}
			full.Subject, full.ID = "ac-1", "jti-1"
			kept := queuesClaim(full)
			if got := kept.AllowsQueue(tc.queue); got != tc.want || got != full.AllowsQueue(tc.queue) {
				t.Errorf("AllowsQueue(%q) = %v, want %v", tc.queue, got, tc.want)
			}
			if kept.Subject != "" || kept.ID != "" || kept.ProjectID != "" || kept.Roles != nil {
				t.Errorf("kept more than the queues claim: %+v", kept)
			}
			if !slices.Equal(kept.Queues, tc.queues) || (kept.Queues == nil) != (tc.queues == nil) {
				t.Errorf("queues = %#v, want %#v", kept.Queues, tc.queues)
			}
		})
	}
}
