package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/memstore"
	"github.com/zedge-io/zedge/store/storetest"
)

const (
	testProject = "campus"
	testSecret  = "0123456789abcdef0123456789abcdef-test"
	waitLimit   = 15 * time.Second // how long a test waits for something that must happen; never a speed check
)

// env is a bridge on 127.0.0.1:0 over a Service on a memstore (behind a fault injector), with jwt auth.
type env struct {
	t      testing.TB
	st     *storetest.Faulty
	svc    *broker.Service
	b      *Bridge
	signer *signing.TokenSigner
	posts  *postRecorder
	ctx    context.Context
	// revoked holds the jtis the verifier refuses; skew moves the bridge's clock (nanoseconds, from now on).
	revoked *sync.Map
	skew    *atomic.Int64
}

// testLimits are Zaqar's defaults with the minimum claim ttl and grace lowered, so that a test can let a
// claim expire in a second.
func testLimits() broker.Limits {
	l := broker.DefaultLimits()
	l.MinClaimTTL, l.MinClaimGrace, l.MinMessageTTL = 1, 0, 1
	return l
}

type envOption func(*Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnvOver(t, nil, opts...)
}

// newEnvOver is newEnv with the store wrapped by wrap (nil: as is).
func newEnvOver(t testing.TB, wrap func(store.Store) store.Store, opts ...envOption) *env {
	t.Helper()
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	st := storetest.NewFaulty(mem)
	var under store.Store = st
	if wrap != nil {
		under = wrap(st)
	}
	posts := &postRecorder{}
	svc, err := broker.New(under, broker.Config{Limits: testLimits()}, broker.WithObserver(posts))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewHS256Signer("k1", []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signing.NewTokenKeys(signer.VerificationKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Commands.Workers = 4
	for _, o := range opts {
		o(&cfg)
	}
	revoked, skew := &sync.Map{}, &atomic.Int64{}
	verifier := TokenVerifier{Keys: keys, Leeway: time.Second, Revoked: func(jti, _ string, _ time.Time) bool {
		_, ok := revoked.Load(jti)
		return ok
	}}
	clock := WithClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	b, err := New(svc, cfg, verifier, testLogger(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{t: t, st: st, svc: svc, b: b, signer: signer, posts: posts, ctx: context.Background(),
		revoked: revoked, skew: skew}
}

// testLogger logs to stderr at debug level with ZEDGE_TEST_LOG=1, else nowhere.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("ZEDGE_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// token mints a token for sub in the test project.
func (e *env) token(sub string, roles ...string) string {
	return e.tokenFor(sub, testProject, nil, roles...)
}

func (e *env) tokenFor(sub, project string, queues []string, roles ...string) string {
	e.t.Helper()
	c, err := signing.NewClaims(sub, project, roles, time.Now(), time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	c.Queues = queues
	tok, err := signing.IssueToken(e.signer, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// v3 connects an MQTT 3.1.1 client (paho.mqtt.golang) with clientID and password.
func (e *env) v3(clientID, password string, tweak ...func(*pahov3.ClientOptions)) pahov3.Client {
	e.t.Helper()
	c, err := e.tryV3(clientID, password, tweak...)
	if err != nil {
		e.t.Fatalf("connect %s: %v", clientID, err)
	}
	return c
}

func (e *env) tryV3(clientID, password string, tweak ...func(*pahov3.ClientOptions)) (pahov3.Client, error) {
	o := pahov3.NewClientOptions().AddBroker("tcp://" + e.b.Addr()).SetClientID(clientID).SetPassword(password).
		SetUsername(clientID).SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetProtocolVersion(4).SetConnectTimeout(waitLimit).SetKeepAlive(30 * time.Second)
	for _, f := range tweak {
		f(o)
	}
	c := pahov3.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(waitLimit) {
		return nil, errors.New("connect timed out")
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	e.t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

// wait waits for an MQTT 3.1.1 token.
func wait(t *testing.T, tok pahov3.Token) error {
	t.Helper()
	if !tok.WaitTimeout(waitLimit) {
		t.Fatal("mqtt operation timed out")
	}
	return tok.Error()
}

// v5 is an MQTT 5 client (paho.golang) with its received publishes on a channel.
type v5 struct {
	*paho.Client
	connack *paho.Connack
	msgs    chan *paho.Publish
	// disconnects receives the server's DISCONNECT, if it sends one.
	disconnects chan *paho.Disconnect
}

func (e *env) v5(clientID, password string, tweak ...func(*paho.Connect)) *v5 {
	e.t.Helper()
	c, err := e.tryV5(clientID, password, tweak...)
	if err != nil {
		e.t.Fatalf("connect %s: %v", clientID, err)
	}
	return c
}

func (e *env) tryV5(clientID, password string, tweak ...func(*paho.Connect)) (*v5, error) {
	conn, err := net.Dial("tcp", e.b.Addr())
	if err != nil {
		return nil, err
	}
	msgs, disconnects := make(chan *paho.Publish, 100), make(chan *paho.Disconnect, 1)
	c := paho.NewClient(paho.ClientConfig{
		Conn:               conn,
		OnServerDisconnect: func(d *paho.Disconnect) { disconnects <- d },
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(r paho.PublishReceived) (bool, error) {
			msgs <- r.Packet
			return true, nil
		}},
	})
	cp := &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30, Password: []byte(password),
		PasswordFlag: password != "", Username: clientID, UsernameFlag: true}
	for _, f := range tweak {
		f(cp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ca, err := c.Connect(ctx, cp)
	if err != nil {
		_ = conn.Close()
		if ca != nil {
			return &v5{connack: ca}, err
		}
		return nil, err
	}
	e.t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return &v5{Client: c, connack: ca, msgs: msgs, disconnects: disconnects}, nil
}

// publish sends a QoS 1 publish and returns the PUBACK's reason code.
func (c *v5) publish(t *testing.T, topic string, payload []byte) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload})
	if pr == nil {
		t.Fatalf("publish %s: no PUBACK: %v", topic, err)
	}
	return pr.ReasonCode
}

// publishAsync sends a QoS 1 publish from another goroutine, for a test that holds the server's answer: the
// channel gets the PUBACK's reason code, or is closed (and the test failed) when none comes.
func (c *v5) publishAsync(t *testing.T, topic string, payload []byte) <-chan byte {
	pubacked := make(chan byte, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
		defer cancel()
		pr, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload})
		if pr == nil {
			t.Errorf("publish %s: no PUBACK: %v", topic, err)
			close(pubacked)
			return
		}
		pubacked <- pr.ReasonCode
	}()
	return pubacked
}

func (c *v5) subscribe(t *testing.T, filter string, qos byte) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if sa == nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return sa.Reasons[0]
}

// next returns the next publish the client receives.
func (c *v5) next(t *testing.T) *paho.Publish {
	t.Helper()
	select {
	case p := <-c.msgs:
		return p
	case <-time.After(waitLimit):
		t.Fatal("no publish received")
		return nil
	}
}

// postRecorder is an observer that lets a test wait for posts to a queue. A benchmark sets onQueue instead,
// and nothing is recorded.
type postRecorder struct {
	mu      sync.Mutex
	posts   []broker.PostEvent
	waiters []chan struct{}
	onQueue func(queue string)
	// before, when set, sees each post first. The recorder is the Service's first observer, so it can hold a
	// post's event back from the bridge.
	before func(ev broker.PostEvent)
}

func (r *postRecorder) MessagesPosted(ev broker.PostEvent) {
	if r.onQueue != nil {
		r.onQueue(ev.Queue)
		return
	}
	r.mu.Lock()
	before := r.before
	r.mu.Unlock()
	if before != nil {
		before(ev)
	}
	r.mu.Lock()
	r.posts = append(r.posts, ev)
	ws := r.waiters
	r.waiters = nil
	r.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// waitPosted waits until n messages in all have been posted to queue, and returns them in order.
func (r *postRecorder) waitPosted(t *testing.T, queue string, n int) []broker.Message {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		r.mu.Lock()
		var got []broker.Message
		for _, ev := range r.posts {
			if ev.Queue == queue {
				got = append(got, ev.Messages...)
			}
		}
		if len(got) >= n {
			r.mu.Unlock()
			return got
		}
		w := make(chan struct{})
		r.waiters = append(r.waiters, w)
		r.mu.Unlock()
		select {
		case <-w:
		case <-deadline:
			t.Fatalf("%d of %d posts to %s seen", len(got), n, queue)
		}
	}
}

// messages lists a queue, claimed messages included.
func (e *env) messages(queue string) []broker.Message {
	e.t.Helper()
	list, err := e.svc.ListMessages(e.ctx, broker.Caller{Project: testProject, ClientID: broker.ClientID{1}}, queue,
		broker.MessageListOptions{Echo: true, IncludeClaimed: true, Limit: 20})
	if err != nil {
		e.t.Fatal(err)
	}
	return list.Messages
}

// post posts raw message bodies to a queue, as REST would.
func (e *env) post(queue string, bodies ...string) []string {
	e.t.Helper()
	b := []byte(`{"messages":[`)
	for i, body := range bodies {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"ttl":300,"body":%s}`, body)
	}
	b = append(b, "]}"...)
	ids, err := e.svc.PostMessages(e.ctx, broker.Caller{Project: testProject, ClientID: broker.ClientID{2}}, queue, b, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

// eventually waits for cond, checking it again whenever something is posted or after a short pause; it
// fails the test if cond is still false after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after %v: %s", waitLimit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decodeEnvelope decodes a stored telemetry body.
func decodeEnvelope(t *testing.T, body []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return e
}

type command struct {
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
	TTL  int             `json:"ttl"`
	Age  int             `json:"age"`
}

func decodeCommand(t *testing.T, payload []byte) command {
	t.Helper()
	var c command
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("command %s: %v", payload, err)
	}
	return c
}

// newBenchEnv is an env for benchmarks: quiet, recording no posts.
func newBenchEnv(b *testing.B) *env {
	e := newEnv(b)
	e.posts.onQueue = func(string) {}
	return e
}
